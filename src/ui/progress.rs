//! The learner's progress: which lessons they finished and which predictions they
//! answered, kept in the browser's `localStorage`.
//!
//! [`Progress`] is plain data that the reducer updates; the browser storage is touched
//! only by [`load`] (once, when the app starts) and [`save`] (by an effect whenever the
//! progress changes), never by the reducer. Whatever is stored is untrusted: a missing,
//! corrupt, oversized or hand-edited value reads as "no progress" or keeps only the
//! parts that still make sense (known lesson slugs, valid answers). Storage that is
//! switched off or full is ignored: progress then lasts as long as the page.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use crate::lessons::{lesson, lessons};

/// The `localStorage` key. The value says its own format version.
pub const STORAGE_KEY: &str = "eventscope.progress";

/// Stored values longer than this are not parsed (12 lessons need well under 2 KiB).
const STORED_BYTES_MAX: usize = 16 * 1024;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Slugs of lessons whose run was followed to the end.
    pub completed: BTreeSet<&'static str>,
    /// The choice the learner made for each lesson's prediction, by slug.
    pub answers: BTreeMap<&'static str, usize>,
}

impl Progress {
    /// Reads a stored value; anything unusable is left out, nothing fails.
    pub fn parse(text: &str) -> Progress {
        let mut progress = Progress::default();
        if text.len() > STORED_BYTES_MAX {
            return progress;
        }
        let Ok(value) = serde_json::from_str::<Value>(text) else {
            return progress;
        };
        if value.get("v").and_then(Value::as_u64) != Some(1) {
            return progress;
        }
        if let Some(list) = value.get("completed").and_then(Value::as_array) {
            // `extend`, not `collect`, which would sort (see `crate::sim::sorting`).
            progress.completed.extend(list.iter().filter_map(Value::as_str).filter_map(lesson).map(|l| l.slug));
        }
        if let Some(map) = value.get("answers").and_then(Value::as_object) {
            for (slug, choice) in map {
                let (Some(found), Some(choice)) = (lesson(slug), choice.as_u64()) else { continue };
                if (choice as usize) < found.prediction.choices.len() {
                    progress.answers.insert(found.slug, choice as usize);
                }
            }
        }
        progress
    }

    /// The stored form: `{"v":1,"completed":[slugs],"answers":{slug: choice}}`.
    pub fn to_json(&self) -> String {
        json!({ "v": 1, "completed": self.completed, "answers": self.answers }).to_string()
    }

    /// Whether the learner answered this lesson's prediction correctly.
    pub fn answered_right(&self, slug: &str) -> Option<bool> {
        let l = lesson(slug)?;
        self.answers.get(l.slug).map(|choice| *choice == l.prediction.answer)
    }

    /// Whether anything was ever recorded: a returning visitor.
    pub fn is_empty(&self) -> bool {
        self.completed.is_empty() && self.answers.is_empty()
    }

    /// The first lesson not completed yet, in order.
    pub fn next_lesson(&self) -> Option<&'static str> {
        lessons().iter().map(|l| l.slug).find(|slug| !self.completed.contains(slug))
    }
}

/// Reads the stored progress (none when storage is unavailable).
#[cfg(target_arch = "wasm32")]
pub fn load() -> Progress {
    let stored =
        gloo::utils::window().local_storage().ok().flatten().and_then(|s| s.get_item(STORAGE_KEY).ok().flatten());
    stored.map(|text| Progress::parse(&text)).unwrap_or_default()
}

/// Stores the progress; a refusal (private mode, quota) is ignored.
#[cfg(target_arch = "wasm32")]
pub fn save(progress: &Progress) {
    if let Ok(Some(storage)) = gloo::utils::window().local_storage() {
        let _ = storage.set_item(STORAGE_KEY, &progress.to_json());
    }
}
