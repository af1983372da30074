module example.com/drydock/testapp

go 1.21

require (
	example.com/drydock/local v0.0.0
	github.com/google/go-cmp v0.6.0
	golang.org/x/text v0.3.5
)

// A module replaced by another version from the proxy, and one replaced by a
// local directory: both must be visible in the binary's build info.
replace github.com/google/go-cmp v0.6.0 => github.com/google/go-cmp v0.7.0

replace example.com/drydock/local => ./local
