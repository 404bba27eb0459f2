//! Opaque paging cursors: the position after the last item a page returned, as text a client
//! hands back. Listings order by a time and an id, so a cursor is that pair; items added later
//! sort after it, so paging neither skips nor repeats while rows are added.

use base64::Engine;

use crate::StoreError;

/// A position in a listing: the last item's time (RFC 3339) and id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// What the listing is (`reports`, `stix`), so a cursor is not used for another.
    pub listing: &'static str,
    /// The last item's time.
    pub time: String,
    /// The last item's id.
    pub id: i64,
}

impl Cursor {
    /// The cursor as opaque text.
    pub fn encode(&self) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(format!("{}|{}|{}", self.listing, self.time, self.id))
    }

    /// Reads a cursor of `listing`.
    pub fn decode(listing: &'static str, text: &str) -> Result<Self, StoreError> {
        let bad = || StoreError::Cursor(text.chars().take(80).collect());
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text.trim())
            .map_err(|_| bad())?;
        let plain = String::from_utf8(bytes).map_err(|_| bad())?;
        let mut parts = plain.splitn(3, '|');
        let (Some(kind), Some(time), Some(id)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad());
        };
        if kind != listing || time.len() > 40 {
            return Err(bad());
        }
        Ok(Cursor {
            listing,
            time: time.to_owned(),
            id: id.parse().map_err(|_| bad())?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_others() {
        let cursor = Cursor {
            listing: "reports",
            time: "2026-12-05T10:00:00.000001Z".into(),
            id: 42,
        };
        let text = cursor.encode();
        assert_eq!(Cursor::decode("reports", &text).expect("valid"), cursor);
        assert!(Cursor::decode("stix", &text).is_err(), "another listing");
        assert!(Cursor::decode("reports", "not-a-cursor!").is_err());
        assert!(Cursor::decode("reports", "").is_err());
    }
}
