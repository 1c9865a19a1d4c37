package input

//cachegen:key
type K struct {
	Spaced   func() `cache: "-"`
	Unquoted func() `cache:-`
	Trailing func() `cache:"-,"`
	Upper    func() `Cache:"-"`
	Twice    int    `cache:"-" cache:"set"`
	Joined   int    `json:"x"cache:"-"`
	Fine     int    `json:"fine" cache:"-"`
	Other    int    `json:"other,omitempty"`
}
