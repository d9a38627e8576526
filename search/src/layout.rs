//! A document's stored layout: where each annotation's text lies in the document's text, with
//! what results need of it, packed as little-endian records so that reading the layout of a
//! thousand pages costs microseconds, not a JSON parse each.

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

#[cfg(test)]
mod tests {
    use super::*;

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
