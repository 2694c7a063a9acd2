package cli

// NetworkCommands are the networks commands of the article.
type NetworkCommands struct{}
