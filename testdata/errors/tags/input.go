package input

//cachegen:key
type K struct {
	A string   `cache:"sett"`
	B string   `cache:"set"`
	C []string `cache:"-,set"`
}
