package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/template"
	"time"

	"github.com/minidocker/minidocker/minidocker/client"
	"github.com/moby/moby/api/types/events"
)

// EventsCmd is `docker events`: the daemon's events as they happen, and
// with --since (or --until) the recent past it remembers. It ends at
// --until, or with Ctrl-C.
type EventsCmd struct {
	Since  string   `help:"Show all events created since timestamp (e.g. 2026-01-02T13:23:37, 1767360000, 10m)."`
	Until  string   `help:"Stream events until this timestamp."`
	Filter []string `short:"f" sep:"none" help:"Filter output based on conditions provided (type, event, container, image, label, network, volume)."`
	Format string   `help:"Format output using a Go template (e.g. '{{json .}}')."`
}

// Run prints the events until --until, the end of the stream or Ctrl-C.
func (c *EventsCmd) Run(g *Globals) error {
	cli, err := g.Client()
	if err != nil {
		return err
	}
	var tmpl *template.Template
	if c.Format != "" {
		if tmpl, err = eventTemplate(c.Format); err != nil {
			return err
		}
	}
	filters, err := parseFilters(c.Filter)
	if err != nil {
		return err
	}
	opts := client.EventsListOptions{Since: c.Since, Until: c.Until, Filters: filters}
	res := cli.Events(g.ctx, opts)
	for {
		select {
		case ev := <-res.Messages:
			if err := printEvent(g.stdout, tmpl, ev); err != nil {
				return err
			}
		case err := <-res.Err:
			if err == nil || errors.Is(err, io.EOF) || g.ctx.Err() != nil {
				return nil // --until reached, or interrupted
			}
			return err
		}
	}
}

// eventTemplate parses --format: "json" or a template with docker's functions.
func eventTemplate(format string) (*template.Template, error) {
	if format == "json" {
		format = "{{json .}}"
	}
	tmpl, err := template.New("events").Funcs(templateFuncs).Parse(format)
	if err != nil {
		return nil, fmt.Errorf("template parsing error: %v", err)
	}
	return tmpl, nil
}

// printEvent writes one event: through the template, or in docker's
// line: time, type, action, actor and its attributes sorted by key.
func printEvent(w io.Writer, tmpl *template.Template, ev events.Message) error {
	if tmpl != nil {
		var buf bytes.Buffer
		if err := tmpl.Execute(&buf, ev); err != nil {
			return fmt.Errorf("template: %v", err)
		}
		_, err := fmt.Fprintln(w, buf.String())
		return err
	}
	line := fmt.Sprintf("%s %s %s %s", time.Unix(0, ev.TimeNano).Format("2006-01-02T15:04:05.000000000Z07:00"), ev.Type, ev.Action, ev.Actor.ID)
	if len(ev.Actor.Attributes) > 0 {
		keys := make([]string, 0, len(ev.Actor.Attributes))
		for k := range ev.Actor.Attributes {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		attrs := make([]string, len(keys))
		for i, k := range keys {
			attrs[i] = k + "=" + ev.Actor.Attributes[k]
		}
		line += " (" + strings.Join(attrs, ", ") + ")"
	}
	_, err := fmt.Fprintln(w, line)
	return err
}
