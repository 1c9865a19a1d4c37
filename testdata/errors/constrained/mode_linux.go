package input

type Mode int32
