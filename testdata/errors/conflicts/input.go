package input

import "github.com/cachegen/cachegen/runtime/keyhash"

//cachegen:key
type FieldNamed struct {
	HashKey int
}

//cachegen:key
type OtherSignature struct{ A int }

func (OtherSignature) HashKey() string { return "" }

// Reached is reached from a key and has a HashKey of another signature.
type Reached struct{ A int }

func (*Reached) HashKey(int) {}

//cachegen:key
type Reaches struct{ R Reached }

//cachegen:value
type ValueField struct {
	MarshalMsg []byte
}

//cachegen:value
type ValueMethod struct{ A int }

func (ValueMethod) Msgsize() int { return 0 }

var _ keyhash.Key
