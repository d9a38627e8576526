//! A document's stored layout: where each annotation's text lies in the document's text, with
//! what results need of it, packed as little-endian records so that reading the layout of a
//! thousand pages costs microseconds, not a JSON parse each.
//!
//! Beside it, each document's [`Map`]: what a search needs to count and order matches without
//! reading the document back (its asset, language, motivation and, per annotation, its first
//! word and id), in a fast field.

use crate::index::Entry;
use crate::{Error, Result};

const HAS_XYWH: u8 = 1;
const HAS_TIME: u8 = 2;
const HAS_CREATOR: u8 = 4;

pub(crate) fn encode(entries: &[Entry]) -> Vec<u8> {
    let mut out = Vec::with_capacity(4 + entries.len() * 48);
    out.extend_from_slice(&(entries.len() as u32).to_le_bytes());
    for entry in entries {
        out.extend_from_slice(&entry.id.to_le_bytes());
        out.extend_from_slice(&entry.created.to_le_bytes());
        out.extend_from_slice(&(entry.from as u32).to_le_bytes());
        out.extend_from_slice(&(entry.to as u32).to_le_bytes());
        let flags = entry.xywh.map_or(0, |_| HAS_XYWH)
            | entry.time.map_or(0, |_| HAS_TIME)
            | entry.creator.as_ref().map_or(0, |_| HAS_CREATOR);
        out.push(flags);
        if let Some(xywh) = entry.xywh {
            for value in xywh {
                out.extend_from_slice(&value.to_le_bytes());
            }
        }
        if let Some(time) = entry.time {
            for value in time {
                out.extend_from_slice(&value.to_le_bytes());
            }
        }
        if let Some(creator) = &entry.creator {
            out.extend_from_slice(&(creator.len() as u32).to_le_bytes());
            out.extend_from_slice(creator.as_bytes());
        }
    }
    out
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N]> {
        if self.bytes.len() < N {
            return Err(Error::index("a stored layout is cut short"));
        }
        let (head, rest) = self.bytes.split_at(N);
        self.bytes = rest;
        Ok(head.try_into().expect("N bytes"))
    }

    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.take()?))
    }

    fn i32(&mut self) -> Result<i32> {
        Ok(i32::from_le_bytes(self.take()?))
    }

    fn i64(&mut self) -> Result<i64> {
        Ok(i64::from_le_bytes(self.take()?))
    }

    fn f64(&mut self) -> Result<f64> {
        Ok(f64::from_le_bytes(self.take()?))
    }
}

pub(crate) fn decode(bytes: &[u8]) -> Result<Vec<Entry>> {
    let mut reader = Reader { bytes };
    let count = reader.u32()? as usize;
    let mut entries = Vec::with_capacity(count.min(bytes.len() / 25));
    for _ in 0..count {
        let id = reader.i64()?;
        let created = reader.i64()?;
        let from = reader.u32()? as usize;
        let to = reader.u32()? as usize;
        let [flags] = reader.take::<1>()?;
        let xywh = if flags & HAS_XYWH != 0 {
            Some([reader.i32()?, reader.i32()?, reader.i32()?, reader.i32()?])
        } else {
            None
        };
        let time = if flags & HAS_TIME != 0 {
            Some([reader.f64()?, reader.f64()?])
        } else {
            None
        };
        let creator = if flags & HAS_CREATOR != 0 {
            let length = reader.u32()? as usize;
            if reader.bytes.len() < length {
                return Err(Error::index("a stored layout is cut short"));
            }
            let (text, rest) = reader.bytes.split_at(length);
            reader.bytes = rest;
            Some(
                String::from_utf8(text.to_vec())
                    .map_err(|_| Error::index("a stored creator is not UTF-8"))?,
            )
        } else {
            None
        };
        entries.push(Entry {
            id,
            created,
            creator,
            xywh,
            time,
            from,
            to,
        });
    }
    Ok(entries)
}

/// What counting and ordering matches needs of a document: the asset it is of, its language
/// and motivation, and per annotation (in text order) the position of its first word among the
/// document's words and its id. Positions and ids go as varint deltas (word-level OCR takes
/// about two bytes an annotation), so that many maps fit one block of the column and a search
/// touching a thousand documents reads few blocks.
#[derive(Debug, Clone)]
pub(crate) struct Map<'a> {
    pub asset: &'a str,
    pub language: &'a str,
    pub motivation: &'a str,
    starts: Vec<u32>,
    ids: Vec<i64>,
}

impl<'a> Map<'a> {
    pub fn encode(
        asset: &str,
        language: &str,
        motivation: &str,
        starts: &[u32],
        ids: &[i64],
    ) -> Vec<u8> {
        debug_assert_eq!(starts.len(), ids.len());
        let mut out = Vec::with_capacity(16 + asset.len() + motivation.len() + ids.len() * 3);
        for text in [asset, language, motivation] {
            out.extend_from_slice(&(text.len() as u32).to_le_bytes());
            out.extend_from_slice(text.as_bytes());
        }
        out.extend_from_slice(&(ids.len() as u32).to_le_bytes());
        let (mut start_before, mut id_before) = (0u32, 0i64);
        for (&start, &id) in starts.iter().zip(ids) {
            debug_assert!(start >= start_before, "annotations are in text order");
            put_varint(&mut out, u64::from(start - start_before));
            put_varint(&mut out, zigzag(id.wrapping_sub(id_before)));
            (start_before, id_before) = (start, id);
        }
        out
    }

    pub fn read(bytes: &'a [u8]) -> Result<Self> {
        let mut reader = Reader { bytes };
        let mut text = || -> Result<&'a str> {
            let length = reader.u32()? as usize;
            let (head, rest) = split(reader.bytes, length)?;
            reader.bytes = rest;
            std::str::from_utf8(head).map_err(|_| Error::index("a stored map is not UTF-8"))
        };
        let (asset, language, motivation) = (text()?, text()?, text()?);
        let count = reader.u32()? as usize;
        // every annotation takes at least two bytes
        if count > reader.bytes.len() / 2 {
            return Err(Error::index("a stored map is cut short"));
        }
        let mut rest = reader.bytes;
        let (mut starts, mut ids) = (Vec::with_capacity(count), Vec::with_capacity(count));
        let (mut start, mut id) = (0u32, 0i64);
        for _ in 0..count {
            let step = u32::try_from(take_varint(&mut rest)?)
                .map_err(|_| Error::index("a stored map has a word past the last"))?;
            start = start
                .checked_add(step)
                .ok_or_else(|| Error::index("a stored map has a word past the last"))?;
            id = id.wrapping_add(unzigzag(take_varint(&mut rest)?));
            starts.push(start);
            ids.push(id);
        }
        if !rest.is_empty() {
            return Err(Error::index("a stored map is longer than it says"));
        }
        Ok(Self {
            asset,
            language,
            motivation,
            starts,
            ids,
        })
    }

    /// How many annotations the document holds.
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    /// The position of the `index`th annotation's first word (of the next one's, when it has
    /// no words).
    pub fn start(&self, index: usize) -> u32 {
        self.starts[index]
    }

    /// The id of the document's `index`th annotation.
    pub fn id(&self, index: usize) -> i64 {
        self.ids[index]
    }

    /// The annotation holding the word at `position`: the last of those starting there or
    /// before (annotations without words start where the next one does).
    pub fn entry_of(&self, position: u32) -> usize {
        self.starts
            .partition_point(|&start| start <= position)
            .saturating_sub(1)
    }
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn take_varint(bytes: &mut &[u8]) -> Result<u64> {
    // most steps are one byte: word-level OCR goes one word and one id at a time
    if let Some((&byte, rest)) = bytes.split_first()
        && byte < 0x80
    {
        *bytes = rest;
        return Ok(u64::from(byte));
    }
    let mut value = 0u64;
    for (index, &byte) in bytes.iter().enumerate().take(10) {
        value |= u64::from(byte & 0x7f) << (7 * index);
        if byte & 0x80 == 0 {
            *bytes = &bytes[index + 1..];
            return Ok(value);
        }
    }
    Err(Error::index("a stored map is cut short"))
}

fn zigzag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

fn unzigzag(value: u64) -> i64 {
    ((value >> 1) as i64) ^ -((value & 1) as i64)
}

fn split(bytes: &[u8], length: usize) -> Result<(&[u8], &[u8])> {
    if bytes.len() < length {
        return Err(Error::index("a stored map is cut short"));
    }
    Ok(bytes.split_at(length))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_round_trip_and_place_words() {
        let ids = [5, 900_000_000_000, 4, i64::MIN];
        let bytes = Map::encode(
            "3/1/page-7",
            "en",
            "supplementing",
            &[0, 2, 2, 70_000],
            &ids,
        );
        let map = Map::read(&bytes).unwrap();
        assert_eq!(
            (map.asset, map.language, map.motivation),
            ("3/1/page-7", "en", "supplementing")
        );
        assert_eq!(map.len(), 4);
        assert_eq!((0..4).map(|i| map.id(i)).collect::<Vec<_>>(), ids);
        assert!(Map::read(&bytes[..bytes.len() - 1]).is_err());
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(Map::read(&longer).is_err());
        // word-level OCR: about two bytes an annotation
        let starts: Vec<u32> = (0..300).collect();
        let ids: Vec<i64> = (1_000_000..1_000_300).collect();
        let small = Map::encode("1/1/p", "", "supplementing", &starts, &ids);
        assert!(small.len() < 650, "{} bytes", small.len());
        let read = Map::read(&small).unwrap();
        assert_eq!((read.start(299), read.id(299)), (299, 1_000_299));
        // words 0-1 are the first annotation's; the second has none; 2.. are the third's
        assert_eq!(map.entry_of(0), 0);
        assert_eq!(map.entry_of(1), 0);
        assert_eq!(map.entry_of(2), 2);
        assert_eq!(map.entry_of(69_999), 2);
        assert_eq!(map.entry_of(70_000), 3);
    }

    #[test]
    fn layouts_round_trip() {
        let entries = vec![
            Entry {
                id: 7,
                created: 1_700_000_000,
                creator: Some("Zoë".into()),
                xywh: Some([1, 2, 3, 4]),
                time: None,
                from: 0,
                to: 5,
            },
            Entry {
                id: -1,
                created: 0,
                creator: None,
                xywh: None,
                time: Some([0.5, 1.25]),
                from: 6,
                to: 9,
            },
        ];
        let bytes = encode(&entries);
        assert_eq!(decode(&bytes).unwrap(), entries);
        assert!(decode(&bytes[..bytes.len() - 1]).is_err());
        assert!(decode(&[]).is_err());
    }
}
