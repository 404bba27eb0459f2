//! The trained sentence classifier: one logistic model per technique over hashed features,
//! stored sparsely (feature → the techniques it moves and by how much).
//!
//! File format: `CTIFATK\n`, a little-endian `u32` format version, the XXH3-64 of the body
//! (`u64`), then the body: the postcard encoding of [`Model`]. The format is ours and
//! versioned; `attack train` writes it and the binary embeds one (see
//! docs/decisions/0006-technique-model.md). Format 1 wrapped the body in an LZ4 frame, which
//! saved 6 % of the size (hashed keys and weights barely compress) and cost 7 ms at every
//! start (docs/decisions/0013-start-up.md). Format 4 stores the numeric arrays as runs of
//! little-endian bytes ([`crate::packed`]): decoding them element by element took 7 ms.
//! Format 5 adds the learned domain placement ([`crate::placement`]).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::features::{self, Scratch};
use crate::placement::Placement;
use crate::prototypes::Prototypes;

const MAGIC: &[u8; 8] = b"CTIFATK\n";
/// Bumped whenever the encoding or the meaning of a field changes.
pub const FORMAT_VERSION: u32 = 7;

/// Thresholds and weights chosen by cross-validation (`attack eval --tune`), stored with the
/// weights they belong to.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// A sentence supports a technique at or above this probability.
    pub sentence_threshold: f32,
    /// A technique is reported for a document when its pooled score reaches this.
    pub document_threshold: f32,
    /// Sentences below this are ignored when pooling.
    pub pooling_floor: f32,
    /// How many of the best sentences are pooled.
    pub pooling_depth: u32,
    /// Added to a technique's log-odds when software the report names is known to use it.
    pub software_prior: f32,
}

impl Default for Calibration {
    fn default() -> Self {
        Self {
            sentence_threshold: 0.5,
            document_threshold: 0.5,
            pooling_floor: 0.2,
            pooling_depth: 3,
            software_prior: 0.0,
        }
    }
}

/// What the model was trained on and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// `(file, sha256)` of each training input.
    pub inputs: Vec<(String, String)>,
    /// Training examples by kind.
    pub examples: Vec<(String, u32)>,
    /// The training settings, for the record.
    pub settings: String,
}

/// The classifier's weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// Technique ids, one per class.
    pub classes: Vec<String>,
    /// The bias of each class.
    #[serde(with = "crate::packed")]
    pub bias: Vec<f32>,
    /// Feature hashes, sorted.
    #[serde(with = "crate::packed")]
    pub keys: Vec<u64>,
    /// `keys.len() + 1` offsets into `targets` and `weights`.
    #[serde(with = "crate::packed")]
    pub offsets: Vec<u32>,
    /// The class each weight belongs to.
    #[serde(with = "crate::packed")]
    pub targets: Vec<u16>,
    /// The weights.
    #[serde(with = "crate::packed")]
    pub weights: Vec<f32>,
    /// Thresholds chosen by cross-validation.
    pub calibration: Calibration,
    /// Phrase strengths measured on the training reports: (pattern, technique, strength).
    /// They replace the lexicon's and the names' prior strengths.
    pub phrase_strengths: Vec<(String, String, f32)>,
    /// Inputs and settings.
    pub provenance: Provenance,
    /// Technique centroids of ICS, Mobile and ATLAS (format 3).
    pub prototypes: Vec<Prototypes>,
    /// Which sentences' wording places them in ICS, Mobile or ATLAS (format 5; the chosen
    /// balance, format 6).
    pub placement: Placement,
    /// Per sub-technique the classifier can tell from its family, the features that mark it
    /// (format 7; see [`crate::markers`]).
    pub sub_markers: Vec<(String, Vec<u64>)>,
}

impl Model {
    /// Serializes the model in the versioned file format.
    pub fn encode(&self) -> Vec<u8> {
        let body = postcard::to_stdvec(self).unwrap_or_default();
        let mut out = Vec::with_capacity(body.len() + 20);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&twox_hash::XxHash3_64::oneshot(&body).to_le_bytes());
        out.extend_from_slice(&body);
        out
    }

    /// Reads a model written by [`Model::encode`].
    pub fn decode(bytes: &[u8], origin: &str) -> Result<Self, Error> {
        let bad = |message: String| Error::Model {
            origin: origin.to_owned(),
            message,
        };
        let rest = bytes
            .strip_prefix(MAGIC)
            .ok_or_else(|| bad("not a ctiforge technique model (bad magic bytes)".into()))?;
        let (version, body) = rest
            .split_first_chunk::<4>()
            .ok_or_else(|| bad("the file ends inside its header".into()))?;
        let version = u32::from_le_bytes(*version);
        if version != FORMAT_VERSION {
            return Err(bad(format!(
                "format version {version}, this build reads version {FORMAT_VERSION}; \
                 retrain with `ctiforge attack train`"
            )));
        }
        let (checksum, body) = body
            .split_first_chunk::<8>()
            .ok_or_else(|| bad("the file ends inside its header".into()))?;
        // Under `cargo fuzz` the checksum is not enforced, so mutations reach the decoder.
        if twox_hash::XxHash3_64::oneshot(body) != u64::from_le_bytes(*checksum) && !cfg!(fuzzing) {
            return Err(bad(
                "corrupt model body: checksum mismatch (truncated or damaged file)".into(),
            ));
        }
        let model: Model =
            postcard::from_bytes(body).map_err(|e| bad(format!("corrupt model: {e}")))?;
        model.check().map_err(bad)?;
        Ok(model)
    }

    /// The invariants that inference relies on.
    fn check(&self) -> Result<(), String> {
        let classes = self.classes.len();
        if self.bias.len() != classes || classes > usize::from(u16::MAX) {
            return Err("class and bias counts differ".into());
        }
        if self.offsets.len() != self.keys.len() + 1
            || self.targets.len() != self.weights.len()
            || self.offsets.last().map(|&o| o as usize) != Some(self.targets.len())
            || self.offsets.windows(2).any(|w| w[0] > w[1])
        {
            return Err("inconsistent weight table".into());
        }
        if self.targets.iter().any(|&t| usize::from(t) >= classes) {
            return Err("a weight names a class that does not exist".into());
        }
        for prototypes in &self.prototypes {
            prototypes.check()?;
        }
        self.placement.check()?;
        Ok(())
    }
}

/// A model ready for inference: the weight table indexed by feature.
#[derive(Debug)]
pub struct Classifier {
    model: Model,
    index: HashMap<u64, u32, BuildHasherDefault<FeatureHasher>>,
}

/// Features are XXH3 hashes already: hashing them again (SipHash, the default) only cost
/// time — a quarter of the classifier's, and of building its index at start-up.
#[derive(Debug, Default)]
struct FeatureHasher(u64);

impl Hasher for FeatureHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `u64` keys are hashed; other input is folded in for completeness.
        for byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*byte);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

/// Reusable buffers for [`Classifier::scores`].
#[derive(Debug, Default)]
pub struct ClassifierScratch {
    features: Vec<u64>,
    rows: Vec<usize>,
    text: Scratch,
    logits: Vec<f32>,
}

impl ClassifierScratch {
    /// The features of the text last scored, sorted.
    pub(crate) fn features(&self) -> &[u64] {
        &self.features
    }
}

impl Classifier {
    /// Indexes a model.
    pub fn new(model: Model) -> Self {
        let index = model
            .keys
            .iter()
            .enumerate()
            .map(|(i, &k)| (k, i as u32))
            .collect();
        Self { model, index }
    }

    /// The model.
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// Calls `found(class, probability)` for each class whose probability reaches `floor`.
    pub fn scores(
        &self,
        text: &str,
        floor: f32,
        scratch: &mut ClassifierScratch,
        mut found: impl FnMut(usize, f32),
    ) {
        features::extract(text, &mut scratch.text, &mut scratch.features);
        let known = &mut scratch.rows;
        known.clear();
        known.extend(
            scratch
                .features
                .iter()
                .filter_map(|f| self.index.get(f).map(|&i| i as usize)),
        );
        if known.is_empty() {
            return;
        }
        let value = features::value(known.len());
        let logits = &mut scratch.logits;
        logits.clear();
        logits.extend_from_slice(&self.model.bias);
        for &row in known.iter() {
            let (start, end) = (
                self.model.offsets[row] as usize,
                self.model.offsets[row + 1] as usize,
            );
            for (&target, &weight) in self.model.targets[start..end]
                .iter()
                .zip(&self.model.weights[start..end])
            {
                logits[usize::from(target)] += weight * value;
            }
        }
        let floor_logit = logit(floor);
        for (class, &z) in logits.iter().enumerate() {
            if z >= floor_logit {
                found(class, sigmoid(z));
            }
        }
    }
}

/// The logistic function.
pub fn sigmoid(z: f32) -> f32 {
    1.0 / (1.0 + (-z).exp())
}

/// Its inverse.
pub fn logit(p: f32) -> f32 {
    let p = p.clamp(1e-6, 1.0 - 1e-6);
    (p / (1.0 - p)).ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> Model {
        let mut scratch = Scratch::default();
        let mut features = Vec::new();
        features::extract("mimikatz", &mut scratch, &mut features);
        Model {
            classes: vec!["T1003.001".into()],
            bias: vec![-3.0],
            keys: features.clone(),
            offsets: (0..=features.len() as u32).collect(),
            targets: vec![0; features.len()],
            weights: vec![8.0; features.len()],
            calibration: Calibration::default(),
            phrase_strengths: Vec::new(),
            provenance: Provenance {
                inputs: Vec::new(),
                examples: Vec::new(),
                settings: String::new(),
            },
            prototypes: Vec::new(),
            placement: Placement::default(),
            sub_markers: Vec::new(),
        }
    }

    #[test]
    fn round_trip_and_inference() {
        let model = tiny();
        let decoded = Model::decode(&model.encode(), "test").expect("decodes");
        assert_eq!(decoded, model);
        let classifier = Classifier::new(decoded);
        let mut scratch = ClassifierScratch::default();
        let mut hits = Vec::new();
        classifier.scores("Ran Mimikatz.", 0.5, &mut scratch, |c, p| hits.push((c, p)));
        assert_eq!(hits.len(), 1);
        assert!(hits[0].1 > 0.9, "{hits:?}");
        hits.clear();
        classifier.scores("Nothing here.", 0.5, &mut scratch, |c, p| hits.push((c, p)));
        assert!(hits.is_empty());
    }

    #[test]
    fn damaged_files_are_refused_with_a_reason() {
        let bytes = tiny().encode();
        for (damaged, expected) in [
            (b"nonsense".to_vec(), "magic"),
            (bytes[..10].to_vec(), "header"),
            (bytes[..bytes.len() - 5].to_vec(), "corrupt"),
        ] {
            let error = Model::decode(&damaged, "x.bin")
                .expect_err("refused")
                .to_string();
            assert!(error.contains(expected), "{error}");
        }
        // Any damaged byte of the body is caught by the checksum.
        for i in 20..bytes.len() {
            let mut flipped = bytes.clone();
            flipped[i] ^= 0x10;
            assert!(Model::decode(&flipped, "x.bin").is_err(), "flip at {i}");
        }
        let mut other_version = bytes.clone();
        other_version[8] = 9;
        let error = Model::decode(&other_version, "x.bin").expect_err("refused");
        assert!(error.to_string().contains("retrain"), "{error}");
    }
}
