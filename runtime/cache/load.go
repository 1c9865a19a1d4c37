package cache

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"runtime/debug"
	"time"

	"github.com/cachegen/cachegen/runtime/keyhash"
	"github.com/tinylib/msgp/msgp"
)

// A source says where a flight found its value.
type source uint8

const (
	computed source = iota
	fromDisk
	fromRemote
)

// A flight is one deduplicated lookup of a key and value type: the Loads that find it in
// Cache.flights wait for its done channel and share its result.
type flight struct {
	done    chan struct{}
	waiters int // Loads waiting, guarded by Cache.flightMu until done is closed
	// finished is set, under Cache.flightMu, when the flight's result is final: a waiter
	// whose context ends after that takes the result (a panic must reach someone).
	finished bool

	// Set before done is closed.
	raw      []byte // the value's msgp encoding, nil if it could not be encoded
	v        any    // the value decoded or computed by the flight, valid when err == nil
	src      source
	err      error       // compute's error, unchanged
	shared   bool        // more than one Load waited: each decodes its own copy from raw
	panicked *PanicError // what compute panicked with, re-raised in every waiter
	goexit   bool        // compute called runtime.Goexit
	// hookPanic is what Options.OnMiss panicked with: the flight's panic when compute
	// returned.
	hookPanic *PanicError

	// deadline is that of the Load that started the flight (zero for none): the remote
	// lookup takes at most half the time left before it, so that compute can still run.
	deadline time.Time
}

// A PanicError is what Load panics with when compute panicked, in each of the Loads that
// waited for it: the value compute panicked with, and the stack of the goroutine where it
// did. It is an error, which unwraps to the value when that is an error itself.
//
// A panic of Options.OnMiss, which runs beside compute, is raised the same way (when compute
// did not panic too); its Error says so.
type PanicError struct {
	Value any    // what compute panicked with
	Stack []byte // the stack of the computation's goroutine when it panicked
	in    string // what panicked, when not compute
}

// Error reports the value and the stack where compute panicked.
func (p *PanicError) Error() string {
	if p.in != "" {
		return fmt.Sprintf("cache: %s panicked: %v\n\ngoroutine of %[1]s:\n%s", p.in, p.Value, p.Stack)
	}
	return fmt.Sprintf("cache: compute panicked: %v\n\ngoroutine of the computation:\n%s", p.Value, p.Stack)
}

// Unwrap returns the value compute panicked with, if it is an error.
func (p *PanicError) Unwrap() error {
	err, _ := p.Value.(error)
	return err
}

// ErrGoexit is the error of the Loads that waited for a computation that called
// runtime.Goexit (t.FailNow in a test, for one) instead of returning.
var ErrGoexit = errors.New("cache: compute called runtime.Goexit")

// Load returns the value for key: from the memory tier, from the entry file on disk, or by
// calling compute(ctx, key) and storing its result in both tiers. Concurrent Loads of one key
// and value type in a process share one lookup and one computation.
//
// compute must derive its result from key alone (see the package documentation). It runs
// with a context that carries ctx's values but not its cancellation, so that a caller who
// gives up does not fail the others waiting for the same computation: a Load whose ctx is
// done before the result is ready returns ctx.Err(), and the computation goes on and stores
// its result.
//
// Load returns compute's error unchanged, and does not cache it. Disk and encoding problems
// are never returned: they are counted in Stats.Errors and the value is computed instead.
// Every value returned is the caller's own, decoded afresh, copied by its CachegenClone (see
// Cloner) or freshly computed, so mutating it affects nothing else; unless
// Options.SharedValues is set, in which case a memory hit returns the value the memory tier
// holds, which the caller must not modify. One exception: the concurrent Loads that shared
// a computation whose value could not be encoded (MarshalMsg failed) or whose encoding does
// not decode again share that value, unless its type has a CachegenClone.
//
// When compute panics, each Load that waits for it panics with a *PanicError, which holds
// the value and the computation's stack; when none waits any more (every caller gave up),
// the panic is raised in the computation's goroutine, and ends the program as a panic in a
// goroutine of its own would. When compute calls runtime.Goexit, the Loads that wait for it
// return ErrGoexit. A nil Cache just calls compute; a closed one serves memory hits
// and otherwise calls compute, without the disk.
//
// The type arguments are inferred: V from compute, PV as *V, which must have msgp's
// MarshalMsg, UnmarshalMsg and Msgsize methods (as cachegen generates for //cachegen:value
// types). UnmarshalMsg must not retain its input, which msgp's generated code does not do
// unless zero-copy decoding was asked for.
func Load[K keyhash.Key, V any, PV Value[V]](ctx context.Context, c *Cache, key K, compute func(context.Context, K) (V, error)) (V, error) {
	if c == nil {
		return compute(ctx, key)
	}
	vt := valueTypeOf[K, V](c)
	if vt.keyInterface {
		vt = vt.holding(reflect.TypeOf(any(key)))
	}
	mk := memKey{d: keyhash.SumOf(key), vt: vt}
	if e := c.mem.lookup(mk); e != nil {
		if v, ok := memoryHit[V, PV](c, e); ok {
			c.stats.memoryHits.add()
			if c.verify > VerifyOff {
				v = verify[K, V, PV](ctx, c, key, mk.d, v, compute)
			}
			return v, nil
		}
		// A damaged entry, dropped: look further.
	}

	var zero V
	c.flightMu.Lock()
	f, joined := c.flights[mk]
	if joined {
		f.waiters++
		c.flightMu.Unlock()
		c.stats.shared.Add(1)
	} else {
		if c.closed {
			c.flightMu.Unlock()
			return compute(ctx, key)
		}
		f = &flight{done: make(chan struct{}), waiters: 1}
		f.deadline, _ = ctx.Deadline()
		c.flights[mk] = f
		c.wg.Add(1)
		c.flightMu.Unlock()
		run := func() {
			defer c.wg.Done()
			returned := false
			defer func() {
				if !returned {
					if p := recover(); p != nil {
						f.panicked = &PanicError{Value: p, Stack: debug.Stack()}
					} else {
						f.goexit = true // no value, no panic: runtime.Goexit
					}
				} else if f.hookPanic != nil {
					f.panicked = f.hookPanic
				}
				c.flightMu.Lock()
				delete(c.flights, mk)
				f.finished = true
				f.shared = f.waiters > 1
				waiters := f.waiters
				c.flightMu.Unlock()
				close(f.done)
				if f.panicked != nil && waiters == 0 {
					if f.panicked == f.hookPanic {
						// OnMiss watches the cache; the cache does not die of it.
						c.opts.Logger.Error("cachegen cache: Options.OnMiss panicked after every caller gave up", "err", f.panicked)
						return
					}
					// Every caller gave up: nobody will re-raise the panic. Losing
					// it would hide a bug; crash as a panic in a goroutine does.
					panic(f.panicked)
				}
			}()
			fill[K, V, PV](context.WithoutCancel(ctx), c, key, mk, compute, f)
			returned = true
		}
		if ctx.Done() == nil {
			run() // this caller cannot give up: no need for another goroutine
		} else {
			go run()
		}
	}

	select {
	case <-f.done:
	case <-ctx.Done():
		c.flightMu.Lock()
		finished := f.finished
		if !finished {
			f.waiters--
		}
		c.flightMu.Unlock()
		if !finished {
			c.stats.misses.Add(1)
			return zero, ctx.Err()
		}
		// The flight counted this caller among its waiters when it finished: take its
		// result, so that a panic is re-raised by someone rather than lost.
		<-f.done
	}
	if f.panicked != nil {
		panic(f.panicked)
	}
	if f.goexit {
		c.stats.misses.Add(1)
		return zero, ErrGoexit
	}
	switch f.src {
	case fromDisk:
		c.stats.hits.Add(1)
		c.stats.diskHits.Add(1)
	case fromRemote:
		c.stats.hits.Add(1)
		c.stats.remoteHits.Add(1)
	default:
		c.stats.misses.Add(1)
	}
	if f.err != nil {
		return zero, f.err
	}
	v := f.v.(V)
	if f.shared {
		v = waiterCopy[V, PV](c, mk.vt, f)
	}
	if f.src != computed && c.verify > VerifyOff {
		v = verify[K, V, PV](ctx, c, key, mk.d, v, compute)
	}
	return v, nil
}

// Value is what a cached value's pointer type must be: *V, with msgp's MarshalMsg,
// UnmarshalMsg and Msgsize, as cachegen generates them for a struct annotated
// //cachegen:value. Load infers it: callers never write it.
type Value[V any] interface {
	*V
	msgp.Marshaler
	msgp.Unmarshaler
	msgp.Sizer
}

// decode decodes one value of type V from raw, which it must use entirely.
func decode[V any, PV Value[V]](raw []byte) (V, error) {
	var v V
	err := unmarshal[V, PV](&v, raw)
	return v, err
}

// unmarshal decodes raw, which it must use entirely, into *p.
func unmarshal[V any, PV Value[V]](p *V, raw []byte) error {
	rest, err := PV(p).UnmarshalMsg(raw)
	if err == nil && len(rest) != 0 {
		err = fmt.Errorf("%d bytes after the value", len(rest))
	}
	return err
}

// waiterCopy returns the value of the flight f, which several Loads waited for, for one of
// them: a copy of its own, made by the value type's CachegenClone, or decoded from the
// encoding. Only a value of a type without a CachegenClone whose encoding failed (MarshalMsg
// returned an error) or does not decode (UnmarshalMsg depends on more than its input) is
// the flight's own, shared by its waiters.
func waiterCopy[V any, PV Value[V]](c *Cache, vt *valueType, f *flight) V {
	v := f.v.(V)
	if vt.clone && !vt.cloneFailed.Load() {
		if cl, ok := cloneOf(c, vt, &v); ok {
			return cl
		}
	}
	if f.raw == nil {
		return v
	}
	d, err := decode[V, PV](f.raw)
	if err != nil {
		c.fail(fmt.Errorf("cache: decoding the encoding of a %s for a waiter: %w", vt.name, err))
		return v
	}
	return d
}

// decodeHit decodes a memory hit's encoding raw: into a pooled target when V's UnmarshalMsg
// is cachegen's own code (vt.reuse), which leaves nothing in its receiver that points into
// it, and into a fresh V otherwise.
func decodeHit[V any, PV Value[V]](vt *valueType, raw []byte) (V, error) {
	if vt.reuse {
		return decodePooled[V, PV](vt, raw)
	}
	p := new(V)
	err := unmarshal[V, PV](p, raw)
	return *p, err
}

// decodePooled is decode into a target from vt's pool, which spares the allocation of the
// V that UnmarshalMsg's receiver escapes to. Only for vt.reuse types: a hand-written
// UnmarshalMsg may leave pointers into its receiver (z.Items = z.buf[:n]), which the next
// use of the target would overwrite.
func decodePooled[V any, PV Value[V]](vt *valueType, raw []byte) (V, error) {
	p, _ := vt.targets.Get().(*V)
	if p == nil {
		p = new(V)
	}
	err := unmarshal[V, PV](p, raw)
	v := *p
	var zero V
	*p = zero
	vt.targets.Put(p)
	return v, err
}

// fill runs the flight f: it looks for the entry on disk, then in the remote tier, and
// computes, encodes and stores the value on a miss, and queues its upload.
func fill[K keyhash.Key, V any, PV Value[V]](ctx context.Context, c *Cache, key K, mk memKey, compute func(context.Context, K) (V, error), f *flight) {
	disk := !c.diskOff.Load()
	rt := c.remote
	var ek entryKey
	if disk || rt != nil {
		ek = c.entryKey(&mk)
	}
	damaged := false
	if disk {
		raw, err := c.readEntry(&ek, mk.vt)
		if err == nil {
			v, err := decode[V, PV](raw)
			if err == nil {
				c.mem.put(mk, raw)
				c.touchVersion()
				f.raw, f.v, f.src = raw, v, fromDisk
				return
			}
			c.stats.corrupt.Add(1)
			damaged = true
			c.opts.Logger.Debug("cachegen cache: entry does not decode", "file", c.entryPath(&ek), "err", err)
		} else if err == errMalformed {
			c.stats.corrupt.Add(1)
			damaged = true
			c.opts.Logger.Debug("cachegen cache: malformed entry", "file", c.entryPath(&ek))
		} else if !errNotExist(err) {
			c.fail(err)
		}
	}

	if rt != nil && fillRemote[V, PV](ctx, c, rt, mk, &ek, disk, f) {
		return
	}

	// The miss explainer: every store records its key's leaves in the records of its type;
	// a miss is explained against them, while compute runs, when someone listens. The key's
	// leaves are listed before compute, which may change what the key refers to.
	var kr keyRecord
	var recFile string
	explained := func() *PanicError { return nil }
	if disk && !c.noRecords {
		typeID, typeShown := keyTypeOf[K]()
		recFile = c.recordFile(typeID)
		kr = newKeyRecord(key)
		// Deferred first, so run last: after the explanation, which reads kr.
		defer kr.release()
		if c.explains() && !c.noExplain {
			explained = c.explainMiss(Miss{Time: c.now(), KeyType: typeShown, Digest: mk.d}, recFile, mk.vt, &kr, damaged)
			// Before Load returns, and before this store's own record is queued, which
			// the explanation must not see. A panic of OnMiss is the flight's, unless
			// compute's is.
			defer func() { f.hookPanic = explained() }()
		}
	} else if !disk && c.explains() {
		_, typeShown := keyTypeOf[K]()
		c.reportMiss(Miss{Time: c.now(), KeyType: typeShown, Digest: mk.d, Reason: "no disk tier: values are kept in memory only (see Stats.Errors)"})
	}

	c.stats.computes.Add(1)
	v, err := compute(ctx, key)
	f.v, f.src = v, computed
	if err != nil {
		c.stats.computeErrors.Add(1)
		f.err = err
		return
	}
	pv := PV(&v)
	raw, err := pv.MarshalMsg(make([]byte, 0, pv.Msgsize()))
	if err != nil {
		c.fail(fmt.Errorf("cache: encoding %s: %w", mk.vt.name, err))
		return
	}
	f.raw = raw
	if int64(len(raw)) > c.opts.MaxEntryBytes {
		return
	}
	c.mem.put(mk, raw)
	upload := rt != nil && rt.writable.Load()
	if !disk && !upload {
		return
	}
	data, _, err := c.writeEntryData(&ek, mk.vt, raw, disk)
	if upload && data != nil {
		// After the local store: the upload runs in the background, from the same bytes.
		rt.enqueue(&ek, mk.vt.name, data)
	}
	if !disk {
		if err != nil && err != errClosed {
			c.fail(err)
		}
		return
	}
	if err != nil {
		if err != errClosed && err != errTooLarge {
			c.fail(err)
		}
		return
	}
	c.touchVersion()
	// The store was counted at once (writeEntryData): the explanation waited for below may
	// take as long as the program's OnMiss, and a trim meanwhile must count the file.
	if recFile != "" && !kr.failed {
		explained() // first: the explanation must not see this record
		c.appendRecord(recFile, mk.d, mk.vt, kr)
	}
}

// fillRemote looks the entry of ek up in the remote tier rt for the flight f. An entry whose
// tag holds is checked as a disk entry is (decodeEntry) and decoded; only then is it stored
// on disk (when disk is set) and in memory, and fillRemote reports true. Anything else is a
// miss, counted by rt.
func fillRemote[V any, PV Value[V]](ctx context.Context, c *Cache, rt *remoteTier, mk memKey, ek *entryKey, disk bool, f *flight) bool {
	entry := rt.get(ctx, ek, mk.vt.name, f.deadline)
	if entry == nil {
		return false
	}
	raw, err := c.decodeRemote(entry, ek, mk.vt)
	if err == errClosed {
		return false
	}
	var v V
	if err == nil {
		v, err = decode[V, PV](raw)
	}
	if err != nil {
		rt.rejected(remoteAddress(rt.namespace, ek), err)
		return false
	}
	c.mem.put(mk, raw)
	if disk {
		switch err := c.storeEntry(ek, entry); err {
		case nil:
			c.touchVersion()
		case errClosed, errTooLarge:
		default:
			c.fail(err)
		}
	}
	f.raw, f.v, f.src = raw, v, fromRemote
	return true
}
