// Package local is a module that testapp replaces with a local directory.
package local

// Name is printed by testapp.
const Name = "local"
