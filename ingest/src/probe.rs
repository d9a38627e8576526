//! Media sniffing and audio/video probing, in pure Rust.
//!
//! [`sniff`] names a file's type from its magic bytes, [`probe_av`] reads an audio or video
//! container (MP4/M4A/MOV, MP3, WAV, Ogg Vorbis/Opus, WebM/Matroska) for its duration and
//! video size without decoding any frame, and [`same_media_type`] compares a declared media
//! type with a sniffed one, allowing for the usual aliases.

use std::io::{Cursor, ErrorKind};
use std::panic::{self, AssertUnwindSafe};

use symphonia::core::codecs::CodecParameters;
use symphonia::core::errors::Error as DemuxError;
use symphonia::core::formats::{FormatOptions, FormatReader, Track};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::units::TimeBase;
use symphonia::default::formats::{IsoMp4Reader, MkvReader, MpaReader, OggReader, WavReader};

/// What a media file turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaFacts {
    /// Canonical media type from the magic bytes, refined by the tracks found for containers
    /// that hold either audio or video (an MP4 without a video track is `audio/mp4`).
    pub media_type: &'static str,
    /// Playing time in seconds.
    pub duration_seconds: Option<f64>,
    /// Coded width in pixels of the first video track.
    pub width: Option<u32>,
    /// Coded height in pixels of the first video track.
    pub height: Option<u32>,
}

/// Names the media type of `bytes` from their magic bytes, in canonical form.
///
/// Returns `None` when nothing is recognised. Ogg is `audio/ogg` whatever its codec; WebM is
/// `video/webm` and ISO media `video/mp4` (or `audio/mp4` for the M4A brand) until
/// [`probe_av`] finds out whether a video track is there.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    match infer::get(bytes) {
        Some(kind) => Some(canonical_sniffed(kind.mime_type())),
        None if looks_like_mpeg_audio(bytes) => Some("audio/mpeg"),
        None => None,
    }
}

/// Reads the duration, and for video the width and height, of an audio or video file.
///
/// Only the container is parsed (no frame is decoded), but every packet is walked, so data
/// that stops short of what the header declares is reported as truncated. Errors are plain
/// sentences fit for a log or an API response; malformed input never panics.
pub fn probe_av(bytes: &[u8]) -> Result<MediaFacts, String> {
    if bytes.is_empty() {
        return Err("empty input: there are no bytes to probe".to_string());
    }
    let sniffed =
        sniff(bytes).ok_or("unrecognised data: the bytes match no known audio or video format")?;
    let container = Container::for_media_type(sniffed)
        .ok_or_else(|| format!("{sniffed} is not an audio or video format this probe reads"))?;
    // The demuxers return errors on bad input; this guard keeps a bug in one of them from
    // taking the caller down on a hostile upload.
    let read = AssertUnwindSafe(|| read_container(bytes, container, sniffed));
    panic::catch_unwind(read).unwrap_or_else(|_| Err(format!("the {sniffed} data is malformed")))
}

/// Whether a declared media type names the same kind of file as a sniffed one.
///
/// Case and parameters (`; codecs=...`) are ignored and common aliases are folded
/// (`image/jpg`, `audio/mp3`, `audio/x-wav`, `audio/x-m4a`, `image/jpx`, `application/ogg`, ...).
/// The audio and video flavours of one container match (`audio/mp4` = `video/mp4`,
/// `audio/webm` = `video/webm`), and so do MP4 and QuickTime, which share one box structure
/// and are routinely labelled as each other, and WebM and Matroska (WebM is a Matroska profile).
pub fn same_media_type(declared: &str, sniffed: &str) -> bool {
    let (declared, sniffed) = (essence(declared), essence(sniffed));
    !declared.is_empty() && family(&declared) == family(&sniffed)
}

/// The containers [`probe_av`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Container {
    /// ISO base media: MP4, M4A, QuickTime.
    IsoMp4,
    /// WebM and Matroska.
    Matroska,
    /// MPEG audio (MP3).
    Mpeg,
    /// RIFF WAVE.
    Wav,
    /// Ogg (Vorbis, Opus).
    Ogg,
}

impl Container {
    fn for_media_type(media_type: &str) -> Option<Self> {
        Some(match media_type {
            "video/mp4" | "audio/mp4" | "video/quicktime" => Self::IsoMp4,
            "video/webm" | "video/x-matroska" => Self::Matroska,
            "audio/mpeg" => Self::Mpeg,
            "audio/wav" => Self::Wav,
            "audio/ogg" => Self::Ogg,
            _ => return None,
        })
    }
}

/// Opens `bytes` with the demuxer for `container` and gathers the facts.
fn read_container(
    bytes: &[u8],
    container: Container,
    sniffed: &'static str,
) -> Result<MediaFacts, String> {
    // The MPEG audio reader is handed the frames only: a stray sync word inside an ID3 tag
    // (cover art, say) could otherwise be taken for the first frame.
    let data = match container {
        Container::Mpeg => bytes.get(id3v2_len(bytes)..).unwrap_or_default(),
        _ => bytes,
    };
    let source = MediaSourceStream::new(Box::new(Cursor::new(data)), Default::default());
    let options = FormatOptions::default();
    let opened: Result<Box<dyn FormatReader + '_>, DemuxError> = match container {
        Container::IsoMp4 => IsoMp4Reader::try_new(source, options).map(|r| Box::new(r) as _),
        Container::Matroska => MkvReader::try_new(source, options).map(|r| Box::new(r) as _),
        Container::Mpeg => MpaReader::try_new(source, options).map(|r| Box::new(r) as _),
        Container::Wav => WavReader::try_new(source, options).map(|r| Box::new(r) as _),
        Container::Ogg => OggReader::try_new(source, options).map(|r| Box::new(r) as _),
    };
    let mut reader = opened
        .map_err(|e| format!("not a readable {sniffed} file (damaged or truncated?): {e}"))?;

    let video = reader.tracks().iter().find_map(|t| match &t.codec_params {
        Some(CodecParameters::Video(v)) => Some((v.width, v.height)),
        _ => None,
    });
    // An MP3's header figure is exact only with a Xing/Info/VBRI frame; without one it is
    // a guess from the first frame's bitrate, and the walked frames are the truth.
    let declared = match container {
        Container::Mpeg if !has_vbr_header(data) => None,
        _ => declared_duration(reader.as_ref()),
    };
    // A live-recorded WebM (MediaRecorder, ffmpeg to a pipe) has a segment of "unknown" size
    // and no duration, a streamed WAV a data size of 0xFFFFFFFF: their data runs to the end.
    let open_ended =
        matches!(container, Container::Matroska | Container::Wav) && declared.is_none();
    let walked = walk_packets(reader.as_mut(), open_ended)
        .map_err(|e| format!("the {sniffed} data is damaged or truncated: {e}"))?;

    let duration_seconds = match (declared, walked) {
        (Some(declared), Some(walked)) if declared > walked + truncation_slack(declared) => {
            return Err(format!(
                "the {sniffed} file is truncated: its header declares {declared:.2} s \
                 but its media data ends at {walked:.2} s"
            ));
        }
        (Some(declared), _) => declared,
        (None, Some(walked)) => walked,
        (None, None) => return Err(format!("the {sniffed} file holds no media packets")),
    };

    Ok(MediaFacts {
        media_type: refine_media_type(sniffed, video.is_some()),
        duration_seconds: Some(duration_seconds),
        width: video.and_then(|(w, _)| w).map(u32::from),
        height: video.and_then(|(_, h)| h).map(u32::from),
    })
}

/// The duration the container's headers state, in seconds: the whole-media figure if given,
/// otherwise the longest track. Zero counts as unstated (fragmented MP4 writes zero).
fn declared_duration(reader: &dyn FormatReader) -> Option<f64> {
    let info = reader.media_info();
    let whole = match (info.time_base, info.duration) {
        (Some(tb), Some(d)) => Some(seconds(tb, d.get() as f64)),
        _ => None,
    };
    let track_seconds = |t: &Track| Some(seconds(t.time_base?, t.duration?.get() as f64));
    let longest_track = reader
        .tracks()
        .iter()
        .filter_map(track_seconds)
        .reduce(f64::max);
    whole.or(longest_track).filter(|&d| d > 0.0)
}

/// Reads every packet and returns the latest end time seen, in seconds (`None` if there were
/// no timed packets).
///
/// With `open_ended` the demuxer's "unexpected end of file" is the stream's normal end.
fn walk_packets(reader: &mut dyn FormatReader, open_ended: bool) -> Result<Option<f64>, String> {
    let tracks = reader.tracks().iter();
    let time_bases: Vec<(u32, Option<TimeBase>)> = tracks.map(|t| (t.id, t.time_base)).collect();
    let mut end: Option<f64> = None;
    loop {
        let packet = match reader.next_packet() {
            Ok(Some(packet)) => packet,
            Ok(None) => return Ok(end),
            Err(DemuxError::IoError(e)) if open_ended && e.kind() == ErrorKind::UnexpectedEof => {
                return Ok(end);
            }
            Err(e) => return Err(e.to_string()),
        };
        let time_base = time_bases.iter().find(|(id, _)| *id == packet.track_id);
        if let Some((_, Some(tb))) = time_base {
            let packet_end = seconds(*tb, packet.pts.get() as f64 + packet.dur.get() as f64);
            end = Some(end.map_or(packet_end, |e| e.max(packet_end)));
        }
    }
}

/// How far the declared duration may exceed the packets' end before the file counts as
/// truncated: a quarter second, or 2% of long files (rounding, untimed last packets).
fn truncation_slack(declared: f64) -> f64 {
    (declared * 0.02).max(0.25)
}

/// `ticks` of time base `tb`, in seconds.
fn seconds(tb: TimeBase, ticks: f64) -> f64 {
    ticks * f64::from(tb.numer.get()) / f64::from(tb.denom.get())
}

/// Adjusts the sniffed type of a container that can hold audio only or video.
fn refine_media_type(sniffed: &'static str, has_video: bool) -> &'static str {
    match (sniffed, has_video) {
        ("video/mp4", false) => "audio/mp4",
        ("audio/mp4", true) => "video/mp4",
        ("video/webm", false) => "audio/webm",
        ("video/x-matroska", false) => "audio/x-matroska",
        (other, _) => other,
    }
}

/// Canonical spelling of a type `infer` reports.
fn canonical_sniffed(mime: &'static str) -> &'static str {
    match mime {
        "audio/x-wav" => "audio/wav",
        "audio/m4a" => "audio/mp4",
        "video/x-m4v" => "video/mp4",
        "audio/opus" => "audio/ogg",
        "audio/x-flac" => "audio/flac",
        other => other,
    }
}

/// Lower-cased type without parameters: `Audio/MP4; codecs="mp4a.40.2"` -> `audio/mp4`.
fn essence(media_type: &str) -> String {
    let bare = media_type.split(';').next().unwrap_or_default();
    bare.trim().to_ascii_lowercase()
}

/// Folds aliases and the audio/video flavours of one format to a single name.
fn family(essence: &str) -> &str {
    match essence {
        "image/jpeg" | "image/jpg" | "image/pjpeg" => "jpeg",
        "image/jp2" | "image/jpx" | "image/jpeg2000" => "jp2",
        "image/tiff" | "image/tif" | "image/x-tiff" => "tiff",
        "image/bmp" | "image/x-bmp" | "image/x-ms-bmp" => "bmp",
        "image/png" | "image/x-png" => "png",
        "audio/mpeg" | "audio/mp3" | "audio/x-mp3" | "audio/mpeg3" | "audio/x-mpeg" => "mp3",
        "audio/wav" | "audio/x-wav" | "audio/wave" | "audio/x-pn-wav" | "audio/vnd.wave" => "wav",
        "video/mp4" | "audio/mp4" | "audio/x-m4a" | "audio/m4a" | "video/x-m4v"
        | "video/quicktime" | "application/mp4" => "mp4",
        "audio/ogg" | "application/ogg" | "video/ogg" | "audio/opus" | "audio/vorbis"
        | "audio/x-vorbis+ogg" | "audio/x-opus+ogg" => "ogg",
        "video/webm" | "audio/webm" | "video/x-matroska" | "audio/x-matroska" => "matroska",
        "application/zip" | "application/x-zip-compressed" | "application/x-zip" => "zip",
        "application/pdf" | "application/x-pdf" => "pdf",
        "audio/flac" | "audio/x-flac" => "flac",
        other => other,
    }
}

/// Whether `bytes` start with two back-to-back MPEG audio Layer III frames (or one frame that
/// fills the input). `infer` only knows MP3s that begin with an ID3 tag or an unprotected
/// MPEG-1/2 frame, not MPEG-2.5 (8-12 kHz) or CRC-protected frames.
fn looks_like_mpeg_audio(bytes: &[u8]) -> bool {
    match mpeg_frame_len(bytes) {
        Some(len) if len == bytes.len() => true,
        Some(len) => bytes.get(len..).and_then(mpeg_frame_len).is_some(),
        None => false,
    }
}

/// Length in bytes of the MPEG Layer III frame whose header starts `bytes`.
fn mpeg_frame_len(bytes: &[u8]) -> Option<usize> {
    const KBPS_V1: [u32; 15] = [
        0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
    ];
    const KBPS_V2: [u32; 15] = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];
    const HZ_V1: [u32; 3] = [44_100, 48_000, 32_000];
    let &[b0, b1, b2, _, ..] = bytes else {
        return None;
    };
    let version = (b1 >> 3) & 3; // 0: MPEG-2.5, 1: reserved, 2: MPEG-2, 3: MPEG-1
    let layer = (b1 >> 1) & 3; // 1: Layer III
    let bitrate = usize::from(b2 >> 4); // 0: free format, 15: invalid
    let rate = usize::from((b2 >> 2) & 3); // 3: reserved
    let padding = u32::from((b2 >> 1) & 1);
    if b0 != 0xFF || b1 & 0xE0 != 0xE0 || version == 1 || layer != 1 {
        return None;
    }
    if bitrate == 0 || bitrate == 15 || rate == 3 {
        return None;
    }
    let (kbps, hz, bytes_per_kbps) = match version {
        3 => (KBPS_V1[bitrate], HZ_V1[rate], 144),
        2 => (KBPS_V2[bitrate], HZ_V1[rate] / 2, 72),
        _ => (KBPS_V2[bitrate], HZ_V1[rate] / 4, 72),
    };
    usize::try_from(bytes_per_kbps * kbps * 1000 / hz + padding).ok()
}

/// Length of the ID3v2 tags at the start of `bytes` (0 if there are none).
fn id3v2_len(bytes: &[u8]) -> usize {
    let mut at = 0;
    while let Some(&[b'I', b'D', b'3', _, _, flags, s0, s1, s2, s3]) = bytes.get(at..at + 10) {
        let syncsafe = [s0, s1, s2, s3].map(|b| usize::from(b & 0x7F));
        let size = syncsafe.iter().fold(0, |n, &b| (n << 7) | b);
        let footer = if flags & 0x10 != 0 { 10 } else { 0 };
        at += 10 + size + footer;
    }
    at.min(bytes.len())
}

/// Whether the first MPEG audio frame of `frames` is a Xing, Info or VBRI header, which
/// states the exact frame count.
fn has_vbr_header(frames: &[u8]) -> bool {
    let first = mpeg_frame_len(frames).and_then(|len| frames.get(..len));
    let first = first.unwrap_or_default();
    first
        .windows(4)
        .any(|w| matches!(w, b"Xing" | b"Info" | b"VBRI"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads a fixture from `fixtures/` beside Cargo.toml.
    fn fixture(name: &str) -> Vec<u8> {
        let path = format!("{}/fixtures/media/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read fixture {path}: {e}"))
    }

    /// An audio or video fixture: file, media type, duration, video size.
    type AvFixture = (&'static str, &'static str, f64, Option<(u32, u32)>);

    const AV: &[AvFixture] = &[
        ("video-h264-aac.mp4", "video/mp4", 2.0, Some((64, 48))),
        ("video-mpeg4.mp4", "video/mp4", 2.0, Some((64, 48))),
        ("video-mpeg4.mov", "video/quicktime", 2.0, Some((64, 48))),
        ("video-vp8-opus.webm", "video/webm", 2.0, Some((64, 48))),
        ("video-vp9.webm", "video/webm", 2.0, Some((64, 48))),
        ("video-vp8-live.webm", "video/webm", 2.0, Some((64, 48))),
        ("video-h264-frag.mp4", "video/mp4", 2.0, Some((64, 48))),
        ("audio-aac.m4a", "audio/mp4", 2.0, None),
        ("audio-cbr.mp3", "audio/mpeg", 2.0, None),
        // No Xing header and no gapless info: the encoder's delay and padding are played too.
        ("audio-vbr-noxing.mp3", "audio/mpeg", 2.16, None),
        ("audio-u8.wav", "audio/wav", 2.0, None),
        ("audio-streamed.wav", "audio/wav", 2.0, None),
        ("audio-vorbis.ogg", "audio/ogg", 2.0, None),
        ("audio-opus.opus", "audio/ogg", 2.0, None),
        ("audio-opus.webm", "audio/webm", 2.0, None),
    ];

    /// Fixtures whose data declares its full length, so any cut is detectable.
    const CUT_DETECTABLE: &[&str] = &[
        "video-h264-aac.mp4",
        "video-mpeg4.mp4",
        "video-mpeg4.mov",
        "video-vp8-opus.webm",
        "video-vp9.webm",
        "audio-aac.m4a",
        "audio-cbr.mp3",
        "audio-u8.wav",
        "audio-vorbis.ogg",
        "audio-opus.opus",
        "audio-opus.webm",
    ];

    /// Deterministic pseudo-random bytes (xorshift64).
    fn noise(len: usize, mut seed: u64) -> Vec<u8> {
        (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed.to_le_bytes()[0]
            })
            .collect()
    }

    #[test]
    fn sniffs_every_fixture() {
        let expected = [
            ("image.jpg", "image/jpeg"),
            ("image.png", "image/png"),
            ("image.tif", "image/tiff"),
            ("image.gif", "image/gif"),
            ("image.webp", "image/webp"),
            ("image.jp2", "image/jp2"),
            ("image.bmp", "image/bmp"),
            ("doc.pdf", "application/pdf"),
            ("archive.zip", "application/zip"),
            ("video-h264-aac.mp4", "video/mp4"),
            ("video-mpeg4.mp4", "video/mp4"),
            ("video-mpeg4.mov", "video/quicktime"),
            ("video-vp8-opus.webm", "video/webm"),
            ("video-vp9.webm", "video/webm"),
            ("video-vp8-live.webm", "video/webm"),
            ("video-h264-frag.mp4", "video/mp4"),
            ("audio-aac.m4a", "audio/mp4"),
            ("audio-cbr.mp3", "audio/mpeg"),
            ("audio-vbr-noxing.mp3", "audio/mpeg"),
            ("audio-u8.wav", "audio/wav"),
            ("audio-streamed.wav", "audio/wav"),
            ("audio-vorbis.ogg", "audio/ogg"),
            ("audio-opus.opus", "audio/ogg"),
            ("audio-opus.webm", "video/webm"),
        ];
        for (name, media_type) in expected {
            assert_eq!(sniff(&fixture(name)), Some(media_type), "{name}");
        }
    }

    #[test]
    fn sniffs_nothing_in_empty_or_random_bytes() {
        assert_eq!(sniff(&[]), None);
        assert_eq!(sniff(b"hello, world"), None);
        for seed in 1..20 {
            assert_eq!(sniff(&noise(4096, seed)), None, "seed {seed}");
        }
    }

    #[test]
    fn probes_duration_and_video_size() {
        for &(name, media_type, duration, size) in AV {
            let facts = probe_av(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(facts.media_type, media_type, "{name}");
            let seconds = facts
                .duration_seconds
                .unwrap_or_else(|| panic!("{name}: no duration"));
            assert!(
                (seconds - duration).abs() < 0.1,
                "{name}: {seconds} s, expected {duration}"
            );
            assert_eq!(facts.width.zip(facts.height), size, "{name}");
        }
    }

    #[test]
    fn refuses_files_that_are_not_audio_or_video() {
        for name in [
            "image.jpg",
            "image.png",
            "image.jp2",
            "doc.pdf",
            "archive.zip",
        ] {
            let err = probe_av(&fixture(name)).unwrap_err();
            assert!(
                err.contains("not an audio or video format"),
                "{name}: {err}"
            );
        }
    }

    #[test]
    fn refuses_empty_and_random_input() {
        assert_eq!(
            probe_av(&[]).unwrap_err(),
            "empty input: there are no bytes to probe"
        );
        for seed in 1..20 {
            let err = probe_av(&noise(4096, seed)).unwrap_err();
            assert!(err.starts_with("unrecognised data"), "seed {seed}: {err}");
        }
    }

    #[test]
    fn refuses_truncated_files() {
        for &name in CUT_DETECTABLE {
            let bytes = fixture(name);
            for keep in [bytes.len() * 9 / 10, bytes.len() / 2, bytes.len() / 5, 40] {
                let cut = &bytes[..keep];
                assert!(
                    probe_av(cut).is_err(),
                    "{name} cut to {keep} bytes: {:?}",
                    probe_av(cut)
                );
            }
        }
        let err = probe_av(&fixture("audio-cbr.mp3")[..2000]).unwrap_err();
        assert!(
            err.contains("truncated: its header declares 2.00 s"),
            "{err}"
        );
    }

    #[test]
    fn open_ended_streams_cut_short_report_what_is_left() {
        // Without a declared length a cut at a frame boundary is a shorter, valid stream.
        for name in [
            "audio-vbr-noxing.mp3",
            "video-vp8-live.webm",
            "audio-streamed.wav",
        ] {
            let bytes = fixture(name);
            if let Ok(facts) = probe_av(&bytes[..bytes.len() / 2]) {
                assert!(
                    facts.duration_seconds.is_some_and(|d| d < 1.9),
                    "{name}: {facts:?}"
                );
            }
        }
    }

    #[test]
    fn never_panics_on_cut_or_corrupted_media() {
        for &(name, ..) in AV {
            let bytes = fixture(name);
            for keep in (0..bytes.len()).step_by(23) {
                let _ = probe_av(&bytes[..keep]);
            }
            for seed in 1..40 {
                let mut damaged = bytes.clone();
                for (i, flip) in noise(8, seed).into_iter().enumerate() {
                    let at = (seed as usize * 7919 + i * 104_729) % damaged.len();
                    damaged[at] ^= flip | 1;
                }
                let _ = probe_av(&damaged);
            }
        }
    }

    #[test]
    fn turns_a_demuxer_panic_into_an_error() {
        // symphonia-core 0.6.1 asserts (panics) when a fragment's base data offset in a
        // fragmented MP4 points past i64::MAX; `probe_av` must still answer with an error.
        let mut bytes = fixture("video-h264-frag.mp4");
        let tfhd = bytes
            .windows(4)
            .position(|w| w == b"tfhd")
            .expect("a tfhd box");
        bytes[tfhd + 12] = 0xE0; // top byte of base_data_offset
        let err = probe_av(&bytes).unwrap_err();
        assert_eq!(err, "the video/mp4 data is malformed");
    }

    #[test]
    fn refuses_bare_magic_numbers() {
        let headers: [&[u8]; 5] = [
            b"OggS\0\x02\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0",
            b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2",
            b"ID3\x04\0\0\0\0\0\0",
            b"RIFF\x24\0\0\0WAVEfmt ",
            b"\xFF\xFB\x90\x64",
        ];
        for header in headers {
            assert!(probe_av(header).is_err(), "{header:?}");
        }
    }

    #[test]
    fn compares_media_types() {
        let same = [
            ("image/jpg", "image/jpeg"),
            ("IMAGE/JPEG", "image/jpeg"),
            ("audio/mp3", "audio/mpeg"),
            ("audio/x-wav", "audio/wav"),
            ("audio/wave", "audio/wav"),
            ("audio/x-m4a", "audio/mp4"),
            ("audio/mp4", "video/mp4"),
            ("video/quicktime", "video/mp4"),
            ("video/mp4", "video/quicktime"),
            ("image/jpx", "image/jp2"),
            ("application/ogg", "audio/ogg"),
            ("audio/opus", "audio/ogg"),
            ("video/webm; codecs=\"vp8, opus\"", "video/webm"),
            ("audio/webm;codecs=opus", "video/webm"),
            ("video/x-matroska", "video/webm"),
            ("application/x-zip-compressed", "application/zip"),
            ("application/vnd.custom", "application/vnd.custom"),
        ];
        for (declared, sniffed) in same {
            assert!(
                same_media_type(declared, sniffed),
                "{declared} vs {sniffed}"
            );
        }
        let different = [
            ("image/png", "image/jpeg"),
            ("audio/mpeg", "audio/mp4"),
            ("video/mp4", "video/webm"),
            ("audio/ogg", "audio/wav"),
            ("image/jp2", "image/jpeg"),
            ("", "image/jpeg"),
            ("; codecs=x", "image/jpeg"),
        ];
        for (declared, sniffed) in different {
            assert!(
                !same_media_type(declared, sniffed),
                "{declared} vs {sniffed}"
            );
        }
    }

    #[test]
    fn finds_mpeg_frames_and_id3_tags() {
        let mp3 = fixture("audio-cbr.mp3");
        let start = id3v2_len(&mp3);
        assert!(start > 10 && looks_like_mpeg_audio(&mp3[start..]));
        assert!(has_vbr_header(&mp3[start..]));
        assert!(!has_vbr_header(&fixture("audio-vbr-noxing.mp3")));
        assert_eq!(id3v2_len(b"ID3"), 0);
        assert_eq!(id3v2_len(b"ID3\x04\0\0\x7F\x7F\x7F\x7F"), 10);
        assert!(!looks_like_mpeg_audio(b"\xFF\xFB"));
    }
}
