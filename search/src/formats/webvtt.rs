//! WebVTT captions: each cue is an annotation on its time range.

use super::{FormatError, Item, Parsed, squeeze, strip_tags};

/// `hh:mm:ss.ttt` or `mm:ss.ttt`, in seconds.
fn timestamp(text: &str) -> Option<f64> {
    let (clock, millis) = text.split_once('.')?;
    if millis.len() != 3 || !millis.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let parts: Vec<&str> = clock.split(':').collect();
    let numbers: Vec<u64> = parts
        .iter()
        .map(|part| part.parse::<u64>().ok().filter(|_| part.len() >= 2))
        .collect::<Option<_>>()?;
    let seconds = match numbers[..] {
        [m, s] if m < 60 && s < 60 => m * 60 + s,
        [h, m, s] if m < 60 && s < 60 => h * 3600 + m * 60 + s,
        _ => return None,
    };
    Some(seconds as f64 + millis.parse::<f64>().ok()? / 1000.0)
}

pub(super) fn parse(content: &str) -> Result<Parsed, FormatError> {
    let content = content.replace("\r\n", "\n").replace('\r', "\n");
    let mut blocks = content.split("\n\n").map(|block| block.trim_matches('\n'));
    let header = blocks.next().unwrap_or_default();
    if !(header == "WEBVTT"
        || header.starts_with("WEBVTT ")
        || header.starts_with("WEBVTT\t")
        || header.starts_with("WEBVTT\n"))
    {
        return Err(FormatError::new(
            "a WebVTT file starts with the line WEBVTT",
        ));
    }
    let mut items = Vec::new();
    let mut line_number = header.lines().count() + 1;
    for block in blocks {
        let lines: Vec<&str> = block.lines().collect();
        let start_line = line_number + 1;
        line_number += lines.len() + 1;
        if lines.is_empty()
            || ["NOTE", "STYLE", "REGION"]
                .iter()
                .any(|word| lines[0] == *word || lines[0].starts_with(&format!("{word} ")))
        {
            continue;
        }
        let Some(timing) = lines.iter().position(|line| line.contains("-->")) else {
            return Err(FormatError::new(format!(
                "WebVTT cue at line {start_line} has no timing line (start --> end)"
            )));
        };
        let (start, rest) = lines[timing].split_once("-->").expect("checked");
        let end = rest.split_whitespace().next().unwrap_or_default();
        let (Some(start), Some(end)) = (timestamp(start.trim()), timestamp(end)) else {
            return Err(FormatError::new(format!(
                "WebVTT cue at line {} has a bad timestamp: {}",
                start_line + timing,
                lines[timing]
            )));
        };
        if end <= start {
            return Err(FormatError::new(format!(
                "WebVTT cue at line {} ends before it starts",
                start_line + timing
            )));
        }
        let text = squeeze(&strip_tags(&lines[timing + 1..].join("\n")));
        if text.is_empty() {
            continue;
        }
        items.push(Item {
            text,
            time: Some([start, end]),
            ..Item::default()
        });
    }
    Ok(Parsed { page: None, items })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cues_become_timed_items() {
        let vtt = "WEBVTT - captions\n\nNOTE a comment\n\n1\n00:01.000 --> 00:04.500 align:start\n<v Ann>Hello <b>there</b></v>\n\n01:00:00.250 --> 01:00:02.000\nsecond\ncue\n";
        let parsed = parse(vtt).unwrap();
        assert_eq!(parsed.items.len(), 2);
        assert_eq!(parsed.items[0].text, "Hello there");
        assert_eq!(parsed.items[0].time, Some([1.0, 4.5]));
        assert_eq!(parsed.items[1].text, "second cue");
        assert_eq!(parsed.items[1].time, Some([3600.25, 3602.0]));
    }

    #[test]
    fn bad_files_say_why() {
        assert!(
            parse("1\n00:01.000 --> 00:02.000\nx")
                .unwrap_err()
                .0
                .contains("WEBVTT")
        );
        assert!(
            parse("WEBVTT\n\n00:01 --> 00:02.000\nx")
                .unwrap_err()
                .0
                .contains("timestamp")
        );
        assert!(
            parse("WEBVTT\n\n00:03.000 --> 00:02.000\nx")
                .unwrap_err()
                .0
                .contains("ends")
        );
        assert!(
            parse("WEBVTT\n\njust text")
                .unwrap_err()
                .0
                .contains("timing")
        );
    }
}
