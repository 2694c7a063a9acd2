package cli

// BuildCommands are the build commands of the article.
type BuildCommands struct{}
