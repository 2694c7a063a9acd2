package cli

// ImageCommands are the images commands of the article.
type ImageCommands struct{}
