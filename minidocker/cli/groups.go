package cli

// Docker's management groups (`docker container ls`, `docker system info`)
// are the same commands as the top-level short forms (`docker ps`,
// `docker info`): each group below reuses the command structs of those, so
// a flag added to one is in both. ImageCmd (images.go), NetworkCmd
// (networks.go) and VolumeCmd (volumes.go) are the other groups.

// GroupCommands are the `container` and `system` groups.
type GroupCommands struct {
	Container ContainerCmd `cmd:"" help:"Manage containers."`
	System    SystemCmd    `cmd:"" help:"Manage minidocker."`
}

// ContainerCmd is `docker container …`.
type ContainerCmd struct {
	Attach  AttachCmd           `cmd:"" help:"Attach local standard input, output, and error streams to a running container."`
	Commit  CommitCmd           `cmd:"" help:"Create a new image from a container's changes."`
	Cp      CpCmd               `cmd:"" help:"Copy files/folders between a container and the local filesystem."`
	Create  CreateCmd           `cmd:"" help:"Create a new container."`
	Diff    DiffCmd             `cmd:"" help:"Inspect changes to files or directories on a container's filesystem."`
	Exec    ExecCmd             `cmd:"" help:"Execute a command in a running container."`
	Export  ExportCmd           `cmd:"" help:"Export a container's filesystem as a tar archive."`
	Inspect ContainerInspectCmd `cmd:"" help:"Display detailed information on one or more containers."`
	Kill    KillCmd             `cmd:"" help:"Kill one or more running containers."`
	Logs    LogsCmd             `cmd:"" help:"Fetch the logs of a container."`
	Ls      PsCmd               `cmd:"" aliases:"ps,list" help:"List containers."`
	Pause   PauseCmd            `cmd:"" help:"Pause all processes within one or more containers."`
	Port    PortCmd             `cmd:"" help:"List port mappings or a specific mapping for the container."`
	Prune   ContainerPruneCmd   `cmd:"" help:"Remove all stopped containers."`
	Rename  RenameCmd           `cmd:"" help:"Rename a container."`
	Restart RestartCmd          `cmd:"" help:"Restart one or more containers."`
	Rm      RmCmd               `cmd:"" aliases:"remove" help:"Remove one or more containers."`
	Run     RunCmd              `cmd:"" help:"Create and run a new container from an image."`
	Start   StartCmd            `cmd:"" help:"Start one or more stopped containers."`
	Stats   StatsCmd            `cmd:"" help:"Display a live stream of container(s) resource usage statistics."`
	Stop    StopCmd             `cmd:"" help:"Stop one or more running containers."`
	Top     TopCmd              `cmd:"" help:"Display the running processes of a container."`
	Unpause UnpauseCmd          `cmd:"" help:"Unpause all processes within one or more containers."`
	Update  UpdateCmd           `cmd:"" help:"Update configuration of one or more containers."`
	Wait    WaitCmd             `cmd:"" help:"Block until one or more containers stop, then print their exit codes."`
}

// ContainerInspectCmd is `docker container inspect`: containers only.
type ContainerInspectCmd struct {
	Format     string   `short:"f" help:"Format output using a Go template (e.g. '{{.State.Pid}}')."`
	Containers []string `arg:"" name:"container"`
}

// Run is `inspect --type container`.
func (c *ContainerInspectCmd) Run(g *Globals) error {
	return (&InspectCmd{Format: c.Format, Type: "container", Objects: c.Containers}).Run(g)
}

// SystemCmd is `docker system …`.
type SystemCmd struct {
	Df     SystemDfCmd    `cmd:"" help:"Show docker disk usage."`
	Events EventsCmd      `cmd:"" help:"Get real time events from the server."`
	Info   InfoCmd        `cmd:"" help:"Display system-wide information."`
	Prune  SystemPruneCmd `cmd:"" help:"Remove unused data."`
}
