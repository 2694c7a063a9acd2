package runtime

func runNsexec() {}
