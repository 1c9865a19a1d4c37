package model

type Mode int8

type mode uint16

// Exported is an exported alias of an unexported type.
type Exported = mode
