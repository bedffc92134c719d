// Times porcupine on history files, for lin/bench/porcupine_compare.sh (synclab's own code:
// the readers and models below follow the semantics of porcupine's test harness for its etcd
// and kv data, so that both checkers judge the same histories).
//
// Usage: porcupine_runner etcd|kv FILE...
// Prints one line per file: "<file>\t<true|false>\t<seconds of CheckEvents>".
package main

import (
	"bufio"
	"fmt"
	"hash/fnv"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
)

// register operations of the etcd logs
type regIn struct {
	op       byte // 'r', 'w', 'c'
	from, to int
}

type regOut struct {
	ok, exists, unknown bool
	value               int
}

const unset = -1 << 40

var registerModel = porcupine.Model{
	Init: func() interface{} { return unset },
	Step: func(state, input, output interface{}) (bool, interface{}) {
		s, in, out := state.(int), input.(regIn), output.(regOut)
		switch in.op {
		case 'r':
			if out.unknown {
				return true, s
			}
			if !out.exists {
				return s == unset, s
			}
			return s == out.value, s
		case 'w':
			return true, in.from
		default:
			next := s
			if s == in.from {
				next = in.to
			}
			if out.unknown {
				return true, next
			}
			return out.ok == (s == in.from), next
		}
	},
}

// kv operations of the kv logs, partitioned per key
type kvIn struct {
	op    byte // 'g', 'p', 'a'
	key   string
	value string
}

type kvOut struct{ value string }

var kvModel = porcupine.Model{
	PartitionEvent: func(history []porcupine.Event) [][]porcupine.Event {
		byKey := map[string][]porcupine.Event{}
		keyOf := map[int]string{}
		var order []string
		for _, e := range history {
			var k string
			if e.Kind == porcupine.CallEvent {
				k = e.Value.(kvIn).key
				keyOf[e.Id] = k
			} else {
				k = keyOf[e.Id]
			}
			if _, seen := byKey[k]; !seen {
				order = append(order, k)
			}
			byKey[k] = append(byKey[k], e)
		}
		parts := make([][]porcupine.Event, 0, len(order))
		for _, k := range order {
			parts = append(parts, byKey[k])
		}
		return parts
	},
	Init: func() interface{} { return "" },
	Step: func(state, input, output interface{}) (bool, interface{}) {
		s, in, out := state.(string), input.(kvIn), output.(kvOut)
		switch in.op {
		case 'g':
			return out.value == s, s
		case 'p':
			return true, in.value
		default:
			return true, s + in.value
		}
	},
	Hash: func(state interface{}) uint64 {
		h := fnv.New64a()
		h.Write([]byte(state.(string)))
		return h.Sum64()
	},
}

// events pairs calls and returns per client; calls never returned get an unknown return at the end.
type events struct {
	list []porcupine.Event
	open map[int]int
	next int
}

func (h *events) call(client int, v interface{}) {
	h.list = append(h.list, porcupine.Event{ClientId: client, Kind: porcupine.CallEvent, Value: v, Id: h.next})
	h.open[client] = h.next
	h.next++
}

func (h *events) ret(client int, v interface{}) {
	id, ok := h.open[client]
	if !ok {
		return
	}
	delete(h.open, client)
	h.list = append(h.list, porcupine.Event{ClientId: client, Kind: porcupine.ReturnEvent, Value: v, Id: id})
}

func (h *events) finish(unknown interface{}) []porcupine.Event {
	for client, id := range h.open {
		h.list = append(h.list, porcupine.Event{ClientId: client, Kind: porcupine.ReturnEvent, Value: unknown, Id: id})
	}
	return h.list
}

// readEtcd reads "INFO  jepsen.util - P\t:type\t:f\tvalue" lines.
func readEtcd(path string) []porcupine.Event {
	f, err := os.Open(path)
	if err != nil {
		panic(err)
	}
	defer f.Close()
	h := &events{open: map[int]int{}}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		_, rest, found := strings.Cut(sc.Text(), "jepsen.util - ")
		if !found {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) < 4 {
			continue
		}
		p, err := strconv.Atoi(fields[0])
		if err != nil {
			continue
		}
		typ, fn, val := fields[1], fields[2], strings.Join(fields[3:], " ")
		switch {
		case typ == ":invoke" && fn == ":read":
			h.call(p, regIn{op: 'r'})
		case typ == ":invoke" && fn == ":write":
			n, _ := strconv.Atoi(val)
			h.call(p, regIn{op: 'w', from: n})
		case typ == ":invoke" && fn == ":cas":
			var a, b int
			fmt.Sscanf(val, "[%d %d]", &a, &b)
			h.call(p, regIn{op: 'c', from: a, to: b})
		case typ == ":ok" && fn == ":read":
			if val == "nil" {
				h.ret(p, regOut{})
			} else {
				n, _ := strconv.Atoi(val)
				h.ret(p, regOut{exists: true, value: n})
			}
		case typ == ":ok" && fn == ":write":
			h.ret(p, regOut{})
		case (typ == ":ok" || typ == ":fail") && fn == ":cas":
			h.ret(p, regOut{ok: typ == ":ok"})
		case typ == ":fail" && fn == ":read":
			h.ret(p, regOut{unknown: true})
		}
	}
	return h.finish(regOut{unknown: true})
}

// readKv reads porcupine's kv logs: {:process P, :type T, :f F, :key "K", :value V}.
func readKv(path string) []porcupine.Event {
	f, err := os.Open(path)
	if err != nil {
		panic(err)
	}
	defer f.Close()
	h := &events{open: map[int]int{}}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		line := strings.Trim(sc.Text(), "{}")
		var p int
		var typ, fn, key, val string
		for _, part := range strings.Split(line, ", :") {
			name, v, _ := strings.Cut(strings.TrimPrefix(part, ":"), " ")
			switch name {
			case "process":
				p, _ = strconv.Atoi(v)
			case "type":
				typ = v
			case "f":
				fn = v
			case "key":
				key = strings.Trim(v, "\"")
			case "value":
				val = strings.Trim(v, "\"")
			}
		}
		switch typ {
		case ":invoke":
			op := map[string]byte{":get": 'g', ":put": 'p', ":append": 'a'}[fn]
			h.call(p, kvIn{op: op, key: key, value: val})
		case ":ok":
			h.ret(p, kvOut{value: val})
		}
	}
	return h.finish(kvOut{})
}

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: porcupine_runner etcd|kv FILE...")
		os.Exit(2)
	}
	for _, path := range os.Args[2:] {
		var evs []porcupine.Event
		model := registerModel
		if os.Args[1] == "kv" {
			evs, model = readKv(path), kvModel
		} else {
			evs = readEtcd(path)
		}
		start := time.Now()
		ok := porcupine.CheckEvents(model, evs)
		fmt.Printf("%s\t%t\t%.6f\n", path, ok, time.Since(start).Seconds())
	}
}
