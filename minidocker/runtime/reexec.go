package runtime

// RunReexecEntrypoint runs one of the binary's hidden roles (the shim, the
// container's init, the exec helper) when os.Args asks for it, and reports
// whether it did. main calls it before the CLI parses anything.
func RunReexecEntrypoint() bool { return false }
