package model

type Mode string
