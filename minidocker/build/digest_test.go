package build

import "github.com/opencontainers/go-digest"

type digestAlias = digest.Digest
