package knowledge

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/gob"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/colecommune/trolyso/knowledge/linear"
)

// engineVersion changes whenever features, training or the cache format
// change, so that older cached models are not used.
const engineVersion = "trolyso-engine-4"

// fingerprintOf identifies everything a trained model depends on: the
// engine, its settings, and the base's questions, answer bodies (before
// the commune profile fills them), lexicon and out-of-scope examples.
func fingerprintOf(b *Base, oos []string, fp featureParams, tp trainParams) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%+v\n%+v\n%s\n", engineVersion, fp, tp, b.lexiconSpec)
	if c := b.wrongAnswerCost(); c != 1 {
		fmt.Fprintf(h, "wrong answer cost %g\n", c)
	}
	for _, e := range b.Entries {
		fmt.Fprintf(h, "E%q\nT%q\n", e.ID, e.Title)
		for _, q := range e.Questions {
			fmt.Fprintf(h, "Q%q\n", q)
		}
		fmt.Fprintf(h, "A%q\n", e.Body)
	}
	for _, q := range oos {
		fmt.Fprintf(h, "O%q\n", q)
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}

// cachedModel is what the cache keeps of a trained index.
type cachedModel struct {
	voc      *vocab
	model    *linear.Model
	bands    Bands
	cv       CVFigures
	examples int
}

// cacheFile is the gob-encoded form of cachedModel.
type cacheFile struct {
	Version     string
	Fingerprint string
	Params      featureParamsFile
	Keys        []uint64
	Group       []uint8
	IDF         []float32
	Model       *linear.Model
	Bands       Bands
	CV          CVFigures
	Examples    int
}

type featureParamsFile struct {
	CharMin, CharMax int
	Weight           [nGroups]float64
	MaxShare         float64
	PruneFrom        int
	MaxClasses       int
}

func cachePath(dir, fingerprint string) string {
	return filepath.Join(dir, "model-"+fingerprint+".gob")
}

func isNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }

func loadCached(dir, fingerprint string) (cachedModel, error) {
	f, err := os.Open(cachePath(dir, fingerprint))
	if err != nil {
		return cachedModel{}, err
	}
	defer f.Close()
	m, err := decodeModel(f, fingerprint)
	if err != nil {
		return cachedModel{}, fmt.Errorf("read cached model %s: %w", f.Name(), err)
	}
	return m, nil
}

// errStale is returned for a model trained on another base or engine.
var errStale = errors.New("the model was trained on another base or engine version")

// decodeModel reads a model written by encodeModel and checks that it was
// trained for fingerprint and is well formed.
func decodeModel(r io.Reader, fingerprint string) (cachedModel, error) {
	cf, err := decodeCacheFile(r)
	if err != nil {
		return cachedModel{}, err
	}
	if cf.Version != engineVersion || cf.Fingerprint != fingerprint {
		return cachedModel{}, errStale
	}
	if cf.Model == nil || len(cf.Keys) != len(cf.IDF) || len(cf.Group) != len(cf.IDF) || cf.Model.Features != len(cf.IDF) ||
		len(cf.Model.Off) != cf.Model.Features+1 || len(cf.Model.Bias) != cf.Model.Classes ||
		len(cf.Model.Cls) != len(cf.Model.W) || int(cf.Model.Off[cf.Model.Features]) != len(cf.Model.W) {
		return cachedModel{}, errors.New("malformed model")
	}
	for _, c := range cf.Model.Cls {
		if c < 0 || int(c) >= cf.Model.Classes {
			return cachedModel{}, errors.New("malformed model")
		}
	}
	p := featureParams{charMin: cf.Params.CharMin, charMax: cf.Params.CharMax, weight: cf.Params.Weight,
		maxShare: cf.Params.MaxShare, pruneFrom: cf.Params.PruneFrom, maxClasses: cf.Params.MaxClasses}
	v := &vocab{p: p, ids: make(map[uint64]int32, len(cf.Keys)), group: cf.Group, idf: cf.IDF}
	for i, k := range cf.Keys {
		v.ids[k] = int32(i)
	}
	return cachedModel{voc: v, model: cf.Model, bands: cf.Bands, cv: cf.CV, examples: cf.Examples}, nil
}

// decodeCacheFile reads a model file of any base and engine version.
func decodeCacheFile(r io.Reader) (cacheFile, error) {
	var cf cacheFile
	if err := gob.NewDecoder(r).Decode(&cf); err != nil {
		return cacheFile{}, err
	}
	return cf, nil
}

// ModelBands reads the bands of a model written by WriteModel for any
// base, to anchor the calibration of a changed base (IndexOptions.Previous).
// A model of another engine version is refused unless anyVersion is set:
// its probabilities may not be on the scale of this engine's, so only a
// deliberate request (TROLYSO_KEEP_BANDS=1 when the engine changed its
// training but not its features or settings) keeps such bands.
func ModelBands(r io.Reader, anyVersion bool) (Bands, error) {
	cf, err := decodeCacheFile(r)
	if err == nil && cf.Version != engineVersion && !anyVersion {
		err = errStale
	}
	if err != nil {
		return Bands{}, fmt.Errorf("read model bands: %w", err)
	}
	return cf.Bands, nil
}

// saveCached writes the model atomically (a temporary file renamed).
func saveCached(dir, fingerprint string, m cachedModel) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("create model cache folder: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "model-*.tmp")
	if err != nil {
		return fmt.Errorf("cache model: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := encodeModel(tmp, fingerprint, m); err != nil {
		tmp.Close()
		return fmt.Errorf("cache model: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("cache model: %w", err)
	}
	if err := os.Rename(tmp.Name(), cachePath(dir, fingerprint)); err != nil {
		return fmt.Errorf("cache model: %w", err)
	}
	return nil
}

// encodeModel writes a trained model with the fingerprint of its base.
func encodeModel(w io.Writer, fingerprint string, m cachedModel) error {
	keys := make([]uint64, len(m.voc.idf))
	for k, id := range m.voc.ids {
		keys[id] = k
	}
	p := m.voc.p
	cf := cacheFile{Version: engineVersion, Fingerprint: fingerprint,
		Params: featureParamsFile{CharMin: p.charMin, CharMax: p.charMax, Weight: p.weight, MaxShare: p.maxShare, PruneFrom: p.pruneFrom, MaxClasses: p.maxClasses},
		Keys:   keys, Group: m.voc.group, IDF: m.voc.idf, Model: m.model, Bands: m.bands, CV: m.cv, Examples: m.examples}
	return gob.NewEncoder(w).Encode(&cf)
}

// embeddedModel is the model trained on the embedded base, written by
// `go generate ./knowledge` (see internal/genmodel). When the embedded base
// changes without it being regenerated, the base is trained at load time
// instead, and TestEmbeddedModelIsFresh fails.
//
//go:embed model.gob
var embeddedModel []byte

// EmbeddedModelFresh reports whether the embedded model was trained on
// base b.
func EmbeddedModelFresh(b *Base) bool {
	_, oos, _ := prepare(b)
	_, err := decodeModel(bytes.NewReader(embeddedModel), fingerprintOf(b, oos, fpFor(b), tpFor(b)))
	return err == nil
}

// WriteModel writes the trained model of ix (for go generate).
func (ix *Index) WriteModel(w io.Writer) error {
	return encodeModel(w, ix.info.Fingerprint, cachedModel{voc: ix.voc, model: ix.model, bands: ix.bands, cv: ix.info.CV, examples: ix.info.Examples})
}
