package image

// DiskUsage is what `docker system df` needs of the store: the bytes of
// every layer counted once (LayersSize), and for each image the bytes of
// its layers that some other image has too (SharedSize: removing the image
// would not free those).
func (s *Store) DiskUsage() (layersSize int64, sharedSize map[string]int64, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	users := map[string]int{}         // diff ID → images that have it
	layersOf := map[string][]string{} // image ID → its diff IDs, each once
	for _, id := range s.imageIDsLocked() {
		cfg, err := s.configLocked(id)
		if err != nil {
			continue
		}
		seen := map[string]bool{}
		for _, d := range cfg.RootFS.DiffIDs {
			if !seen[d.String()] {
				seen[d.String()] = true
				users[d.String()]++
				layersOf[id] = append(layersOf[id], d.String())
			}
		}
	}
	size := func(diffID string) int64 {
		if r, err := s.layer(diffID); err == nil {
			return r.Size
		}
		return 0
	}
	for d := range users {
		layersSize += size(d)
	}
	sharedSize = map[string]int64{}
	for id, layers := range layersOf {
		for _, d := range layers {
			if users[d] > 1 {
				sharedSize[id] += size(d)
			}
		}
	}
	return layersSize, sharedSize, nil
}
