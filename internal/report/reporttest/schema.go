package reporttest

import (
	"bytes"
	"fmt"
	"os"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Schema is a compiled JSON schema for tests.
type Schema struct{ s *jsonschema.Schema }

// CompileSchema compiles the schema with ID root from local files: resources
// maps each schema ID (as referenced by $ref) to its file. Formats are
// asserted. No network access is attempted: an unknown reference fails.
func CompileSchema(root string, resources map[string]string) (*Schema, error) {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	c.UseLoader(noLoader{})
	for id, path := range resources {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading schema %q: %w", path, err)
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("parsing schema %q: %w", path, err)
		}
		if err := c.AddResource(id, doc); err != nil {
			return nil, fmt.Errorf("adding schema %q: %w", path, err)
		}
	}
	s, err := c.Compile(root)
	if err != nil {
		return nil, fmt.Errorf("compiling schema %s: %w", root, err)
	}
	return &Schema{s}, nil
}

// Validate checks a JSON document against the schema.
func (s *Schema) Validate(doc []byte) error {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("parsing document: %w", err)
	}
	return s.s.Validate(v)
}

type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("schema %s is not available offline", url)
}
