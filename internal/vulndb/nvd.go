package vulndb

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/drydock-scan/drydock/internal/vulndb/cvss"
)

// NVD API 2.0 "cve" object (also the items of the 2.0 bulk feeds).
type nvd2CVE struct {
	ID      string `json:"id"`
	Metrics struct {
		V40 []nvd2Metric `json:"cvssMetricV40"`
		V31 []nvd2Metric `json:"cvssMetricV31"`
		V30 []nvd2Metric `json:"cvssMetricV30"`
		V2  []nvd2Metric `json:"cvssMetricV2"`
	} `json:"metrics"`
}

type nvd2Metric struct {
	Type     string `json:"type"`
	CVSSData struct {
		Version      string  `json:"version"`
		VectorString string  `json:"vectorString"`
		BaseScore    float64 `json:"baseScore"`
		BaseSeverity string  `json:"baseSeverity"`
	} `json:"cvssData"`
	// V2 keeps the severity next to cvssData.
	BaseSeverity string `json:"baseSeverity"`
}

// NVD JSON 1.1 feed item.
type nvd11Item struct {
	CVE struct {
		Meta struct {
			ID string `json:"ID"`
		} `json:"CVE_data_meta"`
	} `json:"cve"`
	Impact struct {
		V3 *struct {
			CVSS struct {
				Version      string  `json:"version"`
				VectorString string  `json:"vectorString"`
				BaseScore    float64 `json:"baseScore"`
				BaseSeverity string  `json:"baseSeverity"`
			} `json:"cvssV3"`
		} `json:"baseMetricV3"`
		V2 *struct {
			CVSS struct {
				Version      string  `json:"version"`
				VectorString string  `json:"vectorString"`
				BaseScore    float64 `json:"baseScore"`
			} `json:"cvssV2"`
			Severity string `json:"severity"`
		} `json:"baseMetricV2"`
	} `json:"impact"`
}

// ParseNVD reads NVD data in any of these shapes and calls fn once per CVE:
//   - an NVD API 2.0 "cve" object ({"id": "CVE-…", "metrics": …});
//   - an NVD API 2.0 response or 2.0 bulk feed ({"vulnerabilities": [{"cve": …}]});
//   - an NVD JSON 1.1 feed item ({"cve": {"CVE_data_meta": …}, "impact": …});
//   - an NVD JSON 1.1 feed ({"CVE_Items": [...]}).
//
// gzip-compressed input is detected and decompressed. Arrays are streamed, so
// yearly feeds need not fit in memory. The score is taken from the first
// "Primary" metric in the order CVSS v4.0, v3.1, v3.0, v2; if there is no
// Primary metric, from the first Secondary one in the same order. name
// identifies the input in errors. It returns the number of CVEs passed to fn.
func ParseNVD(r io.Reader, name string, fn func(CVE) error) (int, error) {
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return 0, fmt.Errorf("reading NVD file %q: %w", name, err)
		}
		defer zr.Close()
		br = bufio.NewReader(zr)
	}
	n := 0
	dec := json.NewDecoder(br)
	wrap := func(err error) error { return fmt.Errorf("decoding NVD file %q: %w", name, err) }
	if err := expectDelim(dec, '{'); err != nil {
		return n, wrap(err)
	}
	single := map[string]json.RawMessage{}
	sawArray := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return n, wrap(err)
		}
		key, _ := tok.(string)
		switch key {
		case "vulnerabilities", "CVE_Items":
			sawArray = true
			if err := expectDelim(dec, '['); err != nil {
				return n, wrap(fmt.Errorf("%s: %w", key, err))
			}
			for dec.More() {
				var raw json.RawMessage
				if err := dec.Decode(&raw); err != nil {
					return n, wrap(err)
				}
				var c CVE
				var ok bool
				if key == "vulnerabilities" {
					var item struct {
						CVE json.RawMessage `json:"cve"`
					}
					if err := json.Unmarshal(raw, &item); err != nil {
						return n, wrap(err)
					}
					c, ok, err = nvd2FromJSON(item.CVE)
				} else {
					c, ok, err = nvd11FromJSON(raw)
				}
				if err != nil {
					return n, wrap(err)
				}
				if !ok {
					continue
				}
				n++
				if err := fn(c); err != nil {
					return n, err
				}
			}
			if err := expectDelim(dec, ']'); err != nil {
				return n, wrap(err)
			}
		default:
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return n, wrap(err)
			}
			single[key] = raw
		}
	}
	if err := expectDelim(dec, '}'); err != nil {
		return n, wrap(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return n, wrap(errors.New("trailing data after the JSON object"))
	}
	var (
		c   CVE
		ok  bool
		err error
	)
	switch {
	case single["id"] != nil && single["metrics"] != nil, single["id"] != nil && single["descriptions"] != nil:
		obj, _ := json.Marshal(single)
		c, ok, err = nvd2FromJSON(obj)
	case single["cve"] != nil && single["impact"] != nil, single["cve"] != nil && single["publishedDate"] != nil:
		obj, _ := json.Marshal(single)
		c, ok, err = nvd11FromJSON(obj)
	case !sawArray:
		return n, wrap(errors.New("not an NVD CVE record or feed"))
	}
	if err != nil {
		return n, wrap(err)
	}
	if ok {
		n++
		if err := fn(c); err != nil {
			return n, err
		}
	}
	return n, nil
}

func expectDelim(dec *json.Decoder, d json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if got, ok := tok.(json.Delim); !ok || got != d {
		return fmt.Errorf("expected %q, found %v", d, tok)
	}
	return nil
}

func nvd2FromJSON(raw json.RawMessage) (CVE, bool, error) {
	var v nvd2CVE
	if len(raw) == 0 {
		return CVE{}, false, nil
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return CVE{}, false, err
	}
	if !strings.HasPrefix(v.ID, "CVE-") {
		return CVE{}, false, nil
	}
	c := CVE{ID: v.ID}
	lists := [][]nvd2Metric{v.Metrics.V40, v.Metrics.V31, v.Metrics.V30, v.Metrics.V2}
	for _, wantPrimary := range []bool{true, false} {
		for _, list := range lists {
			for _, m := range list {
				if (m.Type == "Primary") != wantPrimary || m.CVSSData.VectorString == "" {
					continue
				}
				sev := m.CVSSData.BaseSeverity
				if sev == "" {
					sev = m.BaseSeverity
				}
				setNVD(&c, m.CVSSData.Version, m.CVSSData.VectorString, m.CVSSData.BaseScore, sev)
				return c, true, nil
			}
		}
	}
	return c, true, nil
}

func nvd11FromJSON(raw json.RawMessage) (CVE, bool, error) {
	var v nvd11Item
	if err := json.Unmarshal(raw, &v); err != nil {
		return CVE{}, false, err
	}
	id := v.CVE.Meta.ID
	if !strings.HasPrefix(id, "CVE-") {
		return CVE{}, false, nil
	}
	c := CVE{ID: id}
	switch {
	case v.Impact.V3 != nil && v.Impact.V3.CVSS.VectorString != "":
		m := v.Impact.V3.CVSS
		setNVD(&c, m.Version, m.VectorString, m.BaseScore, m.BaseSeverity)
	case v.Impact.V2 != nil && v.Impact.V2.CVSS.VectorString != "":
		m := v.Impact.V2.CVSS
		setNVD(&c, m.Version, m.VectorString, m.BaseScore, v.Impact.V2.Severity)
	}
	return c, true, nil
}

// setNVD fills the NVD fields, computing what the record leaves out from the
// vector when it can.
func setNVD(c *CVE, version, vector string, score float64, severity string) {
	c.NVDVector = vector
	c.NVDVersion = version
	c.NVDScore = score
	c.NVDSeverity = strings.ToUpper(severity)
	if c.NVDVersion == "" {
		switch {
		case strings.HasPrefix(vector, "CVSS:"):
			c.NVDVersion, _, _ = strings.Cut(strings.TrimPrefix(vector, "CVSS:"), "/")
		default:
			c.NVDVersion = "2.0"
		}
	}
	if c.NVDScore == 0 || c.NVDSeverity == "" {
		if s, sev, err := cvss.BaseScore(vector); err == nil {
			if c.NVDScore == 0 {
				c.NVDScore = s
			}
			if c.NVDSeverity == "" {
				c.NVDSeverity = sev
			}
		}
	}
}

// kevFile is the CISA Known Exploited Vulnerabilities catalog.
type kevFile struct {
	CatalogVersion  string `json:"catalogVersion"`
	Vulnerabilities []struct {
		CVEID                      string `json:"cveID"`
		DateAdded                  string `json:"dateAdded"`
		DueDate                    string `json:"dueDate"`
		KnownRansomwareCampaignUse string `json:"knownRansomwareCampaignUse"`
	} `json:"vulnerabilities"`
}

// ParseKEV reads the CISA KEV catalog (known_exploited_vulnerabilities.json)
// and returns one CVE per entry with the KEV fields set, in file order. name
// identifies the input in errors.
func ParseKEV(r io.Reader, name string) ([]CVE, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxNativeSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading KEV catalog %q: %w", name, err)
	}
	if len(data) > maxNativeSize {
		return nil, fmt.Errorf("reading KEV catalog %q: larger than %d bytes", name, maxNativeSize)
	}
	var f kevFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("decoding KEV catalog %q: %w", name, err)
	}
	if f.Vulnerabilities == nil {
		return nil, fmt.Errorf("decoding KEV catalog %q: no \"vulnerabilities\" array", name)
	}
	out := make([]CVE, 0, len(f.Vulnerabilities))
	for _, v := range f.Vulnerabilities {
		id := strings.TrimSpace(v.CVEID)
		if !strings.HasPrefix(id, "CVE-") {
			continue
		}
		out = append(out, CVE{ID: id, KEV: true, KEVDateAdded: v.DateAdded, KEVDueDate: v.DueDate, KEVRansomware: v.KnownRansomwareCampaignUse})
	}
	return out, nil
}
