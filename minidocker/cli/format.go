package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"text/tabwriter"
	"text/template"
	"unicode/utf8"

	"github.com/minidocker/minidocker/minidocker/client"
)

// The --format flag of the list commands (volume ls, …) works as docker's:
//
//   - "" or "table": the command's default table, with its header;
//   - "table TEMPLATE": a table of the template's columns, headed by each
//     field's column name;
//   - "json": one JSON object per row, every field of the row;
//   - anything else: the Go template, run once per row.
//
// A row is a value whose methods are the template's fields ({{.Name}});
// `\t` and `\n` written in the flag become a tab and a newline.

// templateFuncs are the functions docker's templates offer.
var templateFuncs = template.FuncMap{
	"json": func(v any) (string, error) {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		err := enc.Encode(v)
		return strings.TrimSpace(b.String()), err
	},
	"split": strings.Split,
	"join":  strings.Join,
	"upper": strings.ToUpper,
	"lower": strings.ToLower,
	"pad": func(s string, before, after int) string {
		return strings.Repeat(" ", before) + s + strings.Repeat(" ", after)
	},
	"truncate": func(s string, n int) string {
		if utf8.RuneCountInString(s) <= n {
			return s
		}
		return string([]rune(s)[:n])
	},
	"println": func(args ...any) string { return fmt.Sprintln(args...) },
}

// headerContext names the columns of a table: {{.Name}} in the header row
// is the column's title. {{.Label "com.example.tier"}} is headed "tier".
type headerContext map[string]string

// Label is the title of a label's column: the last dotted part of its
// name, with '-' and '_' as spaces.
func (h headerContext) Label(name string) string {
	parts := strings.Split(name, ".")
	return strings.NewReplacer("-", " ", "_", " ").Replace(parts[len(parts)-1])
}

// listFormat is one list command's output: its default table and column
// titles, and the template that -q means.
type listFormat struct {
	table  string // the default, e.g. "{{.Driver}}\t{{.Name}}"
	quiet  string // what -q prints, e.g. "{{.Name}}"
	header headerContext
}

// write prints rows as format asks. With quiet, the default formats give
// way to the quiet template; a template of the user's own still wins, as
// in docker.
func (lf listFormat) write(w io.Writer, format string, quiet bool, rows []any) error {
	isTable := format == "" || strings.HasPrefix(format, "table")
	text := strings.TrimSpace(strings.TrimPrefix(format, "table"))
	switch {
	case quiet && (format == "" || format == "table"):
		isTable, text = false, lf.quiet
	case format == "json":
		isTable, text = false, "{{json .}}"
	case isTable && text == "":
		text = lf.table
	}
	text = strings.NewReplacer(`\t`, "\t", `\n`, "\n").Replace(text)
	tmpl, err := template.New("").Funcs(templateFuncs).Parse(text)
	if err != nil {
		return fmt.Errorf("template parsing error: %v", err)
	}
	out := w
	var tw *tabwriter.Writer
	if isTable {
		tw = tabwriter.NewWriter(w, 10, 1, 3, ' ', 0)
		out = tw
		if err := executeLine(out, tmpl, lf.header); err != nil {
			return err
		}
	}
	for _, row := range rows {
		if format == "json" {
			row = fieldsOf(row)
		}
		if err := executeLine(out, tmpl, row); err != nil {
			return err
		}
	}
	if tw != nil {
		return tw.Flush()
	}
	return nil
}

// executeLine runs the template on one row and ends the line.
func executeLine(w io.Writer, tmpl *template.Template, data any) error {
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, data); err != nil {
		return fmt.Errorf("template: %v", err)
	}
	buf.WriteByte('\n')
	_, err := w.Write(buf.Bytes())
	return err
}

// fieldsOf is a row as --format json prints it: every method that takes
// no argument and returns a string, by name (json.Marshal sorts them).
func fieldsOf(row any) map[string]string {
	out := map[string]string{}
	v := reflect.ValueOf(row)
	t := v.Type()
	for i := 0; i < t.NumMethod(); i++ {
		m := t.Method(i)
		if m.Type.NumIn() == 1 && m.Type.NumOut() == 1 && m.Type.Out(0).Kind() == reflect.String {
			out[m.Name] = v.Method(i).Call(nil)[0].String()
		}
	}
	return out
}

// parseFilters reads repeated --filter key=value flags.
func parseFilters(list []string) (client.Filters, error) {
	f := client.Filters{}
	for _, kv := range list {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("invalid argument %q for \"-f, --filter\" flag: bad format of filter (expected name=value)", kv)
		}
		f.Add(k, v)
	}
	return f, nil
}

// confirm asks docker's question after warning, and says whether the user
// answered yes.
func (g *Globals) confirm(warning string) bool {
	fmt.Fprintf(g.stdout, "%s\nAre you sure you want to continue? [y/N] ", warning)
	var answer string
	fmt.Fscanln(g.stdin, &answer)
	a := strings.ToLower(strings.TrimSpace(answer))
	return a == "y" || a == "yes"
}

// labelList is docker's Labels column: "k=v,k2=v2", sorted by key so that
// the output does not change from run to run (docker's follows map order).
func labelList(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + labels[k]
	}
	return strings.Join(parts, ",")
}
