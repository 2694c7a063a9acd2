package image

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"sync"

	"github.com/minidocker/minidocker/minidocker/archive"
)

// unpackPipeline reads a layer blob once and runs three stages in their
// own goroutines, joined by roomy pipes (see the diagram in doc.go):
//
//	fetch:      blob stream (digest checked by the source) → raw pipe
//	decompress: raw pipe → (saved to blob) → gunzip/zstd → tar pipe
//	unpack:     tar pipe → (diffID hash) → archive.Apply into dir
//
// Saving the blob sits in the middle stage so that the first one does no
// more than `crane pull` does. It returns the hash and size of the
// uncompressed tar and whether the blob was uncompressed (then its digest
// is the diffID, and blob stops hashing it).
func unpackPipeline(ctx context.Context, rc io.Reader, blob *blobWriter, dir string) (dh *countingHash, plain bool, err error) {
	dh = &countingHash{h: sha256.New()}
	rawR, rawW := newRoomyPipe(pipeDepth)
	tarR, tarW := newRoomyPipe(pipeDepth)
	rawR.tee, tarR.tee = blob, dh
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		_, err := rawW.ReadFrom(rc)
		rawW.CloseWithError(err)
	}()
	go func() {
		defer wg.Done()
		err := decompressTo(tarW, rawR, func(c archive.Compression) {
			if plain = c == archive.Uncompressed; plain {
				blob.h = nil // the diffID hash covers the same bytes
			}
		})
		rawR.CloseWithError(err) // stops the first stage too on error
		tarW.CloseWithError(err)
	}()
	err = unpackLayer(ctx, tarR, dir)
	tarR.CloseWithError(errors.Join(err, io.ErrClosedPipe))
	wg.Wait()
	rawR.release()
	tarR.release()
	return dh, plain, err
}

// pipeDepth is how many chunks each pipe of the layer pipeline holds (2 MiB).
const pipeDepth = 8

// decompressTo writes the uncompressed stream of the blob raw to w, telling
// kind the format first, then reads what follows the end of a compressed
// stream (rare, but the blob digest covers it).
func decompressTo(w io.Writer, raw io.Reader, kind func(archive.Compression)) error {
	plain, c, err := archive.Decompress(raw)
	if err != nil {
		return err
	}
	kind(c)
	_, err = io.CopyBuffer(w, plain, make([]byte, pipeChunk))
	plain.Close()
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, raw)
	return err
}

// pipeChunk is the size of the buffers a roomyPipe hands from its writer
// to its reader.
const pipeChunk = 256 << 10

// roomyPipe is io.Pipe with room in between: the writer fills chunks and
// goes on while up to depth of them wait for the reader. io.Pipe blocks
// the writer until the reader has taken every byte, which keeps the stages
// of the layer pipeline in lockstep; with room, a stage that is briefly
// slower (a file being created, a goroutine not scheduled on a busy
// machine) does not stall the ones before it.
type roomyPipe struct {
	full chan []byte // filled chunks, in order; closed by the writer's close
	free chan []byte // empty chunks for the writer
	done chan struct{}

	fill []byte // the writer's chunk being filled
	cur  []byte // the reader's chunk being drained
	buf  []byte // cur's whole buffer, returned to free once drained

	once sync.Once
	werr error // why the writer closed (nil: EOF); read after full is closed
	rerr error // why the reader closed; read after done is closed
}

// chunkPool keeps the chunks of finished pipes: fresh ones would cost a
// page fault per 4 KiB on every layer.
var chunkPool = sync.Pool{New: func() any { return make([]byte, 0, pipeChunk) }}

// newRoomyPipe returns the two ends of a pipe holding up to depth chunks.
func newRoomyPipe(depth int) (*roomyPipeReader, *roomyPipeWriter) {
	p := &roomyPipe{full: make(chan []byte, depth), free: make(chan []byte, depth+1), done: make(chan struct{})}
	for i := 0; i < depth+1; i++ {
		p.free <- chunkPool.Get().([]byte)
	}
	return &roomyPipeReader{p: p}, &roomyPipeWriter{p}
}

// roomyPipeWriter is the writing end of a roomyPipe.
type roomyPipeWriter struct{ p *roomyPipe }

// Write copies b into chunks, sending each one on as it fills. It fails
// with the reader's error once the reader has closed.
func (w *roomyPipeWriter) Write(b []byte) (int, error) {
	p, n := w.p, 0
	for len(b) > 0 {
		if p.fill == nil {
			select {
			case p.fill = <-p.free:
			case <-p.done:
				return n, p.rerr
			}
		}
		c := copy(p.fill[len(p.fill):cap(p.fill)], b)
		p.fill, b, n = p.fill[:len(p.fill)+c], b[c:], n+c
		if len(p.fill) == cap(p.fill) {
			if err := w.send(); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// ReadFrom reads r straight into the chunks (one copy less than Write)
// until r ends, which is not an error; it fails as Write does once the
// reader has closed.
func (w *roomyPipeWriter) ReadFrom(r io.Reader) (int64, error) {
	p := w.p
	var total int64
	for {
		if p.fill == nil {
			select {
			case p.fill = <-p.free:
			case <-p.done:
				return total, p.rerr
			}
		}
		n, err := r.Read(p.fill[len(p.fill):cap(p.fill)])
		p.fill, total = p.fill[:len(p.fill)+n], total+int64(n)
		if len(p.fill) == cap(p.fill) {
			if serr := w.send(); serr != nil {
				return total, serr
			}
		}
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

func (w *roomyPipeWriter) send() error {
	p := w.p
	select {
	case p.full <- p.fill:
		p.fill = nil
		return nil
	case <-p.done:
		return p.rerr
	}
}

// CloseWithError sends what is buffered and ends the stream: the reader
// sees err after the last byte (io.EOF when err is nil). Call it once.
func (w *roomyPipeWriter) CloseWithError(err error) error {
	p := w.p
	if len(p.fill) > 0 { // what Write took is delivered, as with io.Pipe
		if serr := w.send(); err == nil {
			err = serr
		}
	}
	p.werr = err
	close(p.full)
	return nil
}

// roomyPipeReader is the reading end of a roomyPipe.
type roomyPipeReader struct {
	p *roomyPipe
	// tee, if set, is given every chunk as the reader takes it (whole
	// chunks: one write per 256 KiB for a blob file).
	tee io.Writer
	err error // once set (a failed tee), every Read returns it
}

// Read takes bytes from the oldest chunk, waiting for one if none is there.
func (r *roomyPipeReader) Read(b []byte) (int, error) {
	p := r.p
	if r.err != nil {
		return 0, r.err // sticky: a reader that retries must not skip a chunk
	}
	if len(p.cur) == 0 {
		if p.buf != nil {
			p.free <- p.buf[:0]
			p.buf = nil
		}
		chunk, ok := <-p.full
		if !ok {
			if p.werr != nil {
				return 0, p.werr
			}
			return 0, io.EOF
		}
		if r.tee != nil {
			if _, err := r.tee.Write(chunk); err != nil {
				r.err = err
				r.CloseWithError(err)
				return 0, err
			}
		}
		p.buf, p.cur = chunk, chunk
	}
	n := copy(b, p.cur)
	p.cur = p.cur[n:]
	return n, nil
}

// CloseWithError stops the writer: its Writes fail with err (io.ErrClosedPipe
// when nil) from then on.
func (r *roomyPipeReader) CloseWithError(err error) error {
	if err == nil {
		err = io.ErrClosedPipe
	}
	r.p.once.Do(func() {
		r.p.rerr = err
		close(r.p.done)
	})
	return nil
}

// release gives the pipe's chunks back to chunkPool. Call it only when
// both ends are done with the pipe (the writer has closed it).
func (r *roomyPipeReader) release() {
	p := r.p
	put := func(b []byte) {
		if b != nil {
			chunkPool.Put(b[:0]) // boxing the slice header costs little next to its 256 KiB
		}
	}
	put(p.fill)
	put(p.buf)
	p.fill, p.buf, p.cur = nil, nil, nil
	for b := range p.full {
		put(b)
	}
	for {
		select {
		case b := <-p.free:
			put(b)
		default:
			return
		}
	}
}
