package cli

// ContainerCommands are the containers commands of the article.
type ContainerCommands struct{}
