//! Video and audio: small containers built by hand, byte by byte, read
//! back; broken, truncated and lying variants refused.

use stoa_media::{
    check_upload, length_string, process_av, Limits, MediaError, MediaKind, ProcessedAv,
};

// ---------------------------------------------------------------- builders

fn be32(n: usize) -> [u8; 4] {
    u32::try_from(n).expect("fits in 32 bits").to_be_bytes()
}

fn mp4_box(kind: &[u8; 4], content: &[u8]) -> Vec<u8> {
    [&be32(content.len() + 8)[..], kind, content].concat()
}

/// A full box: version and flags, then the content.
fn full_box(kind: &[u8; 4], version: u8, flags: u32, content: &[u8]) -> Vec<u8> {
    let mut head = flags.to_be_bytes();
    head[0] = version;
    mp4_box(kind, &[&head[..], content].concat())
}

const IDENTITY: [u32; 9] = [0x0001_0000, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000];
/// A quarter turn, as phones write for upright video.
const QUARTER_TURN: [u32; 9] = [0, 0x0001_0000, 0, 0xFFFF_0000, 0, 0, 0, 0, 0x4000_0000];

fn matrix(m: [u32; 9]) -> Vec<u8> {
    m.iter().flat_map(|v| v.to_be_bytes()).collect()
}

struct Mp4Video {
    width: u16,
    height: u16,
    timescale: u32,
    /// In `timescale` units.
    duration: u32,
    frames: u32,
    matrix: [u32; 9],
    with_audio: bool,
    with_udta: bool,
}

impl Default for Mp4Video {
    fn default() -> Self {
        Mp4Video {
            width: 320,
            height: 240,
            timescale: 15_360,
            duration: 2 * 15_360,
            frames: 60,
            matrix: IDENTITY,
            with_audio: false,
            with_udta: false,
        }
    }
}

fn mvhd(timescale: u32, duration: u32) -> Vec<u8> {
    let mut c = Vec::new();
    c.extend_from_slice(&[0; 8]); // creation, modification
    c.extend_from_slice(&timescale.to_be_bytes());
    c.extend_from_slice(&duration.to_be_bytes());
    c.extend_from_slice(&0x0001_0000u32.to_be_bytes()); // rate
    c.extend_from_slice(&0x0100u16.to_be_bytes()); // volume
    c.extend_from_slice(&[0; 10]);
    c.extend_from_slice(&matrix(IDENTITY));
    c.extend_from_slice(&[0; 24]);
    c.extend_from_slice(&3u32.to_be_bytes()); // next track id
    full_box(b"mvhd", 0, 0, &c)
}

fn tkhd(id: u32, duration: u32, m: [u32; 9], width: u16, height: u16) -> Vec<u8> {
    let mut c = Vec::new();
    c.extend_from_slice(&[0; 8]);
    c.extend_from_slice(&id.to_be_bytes());
    c.extend_from_slice(&[0; 4]);
    c.extend_from_slice(&duration.to_be_bytes());
    c.extend_from_slice(&[0; 8]);
    c.extend_from_slice(&[0; 8]); // layer, group, volume, reserved
    c.extend_from_slice(&matrix(m));
    c.extend_from_slice(&(u32::from(width) << 16).to_be_bytes());
    c.extend_from_slice(&(u32::from(height) << 16).to_be_bytes());
    full_box(b"tkhd", 0, 3, &c)
}

fn mdhd(timescale: u32, duration: u32) -> Vec<u8> {
    let mut c = Vec::new();
    c.extend_from_slice(&[0; 8]);
    c.extend_from_slice(&timescale.to_be_bytes());
    c.extend_from_slice(&duration.to_be_bytes());
    c.extend_from_slice(&[0x55, 0xC4, 0, 0]); // "und", pre-defined
    full_box(b"mdhd", 0, 0, &c)
}

fn hdlr(handler: &[u8; 4], name: &str) -> Vec<u8> {
    let mut c = vec![0; 4];
    c.extend_from_slice(handler);
    c.extend_from_slice(&[0; 12]);
    c.extend_from_slice(name.as_bytes());
    c.push(0);
    full_box(b"hdlr", 0, 0, &c)
}

fn stbl(entry: Vec<u8>, samples: u32, delta: u32) -> Vec<u8> {
    let stsd = full_box(b"stsd", 0, 0, &[&1u32.to_be_bytes()[..], &entry].concat());
    let stts = full_box(
        b"stts",
        0,
        0,
        &[
            1u32.to_be_bytes(),
            samples.to_be_bytes(),
            delta.to_be_bytes(),
        ]
        .concat(),
    );
    let stsc = full_box(b"stsc", 0, 0, &0u32.to_be_bytes());
    let stsz = full_box(
        b"stsz",
        0,
        0,
        &[0u32.to_be_bytes(), 0u32.to_be_bytes()].concat(),
    );
    let stco = full_box(b"stco", 0, 0, &0u32.to_be_bytes());
    mp4_box(b"stbl", &[stsd, stts, stsc, stsz, stco].concat())
}

fn avc1(width: u16, height: u16) -> Vec<u8> {
    let mut c = vec![0; 6];
    c.extend_from_slice(&1u16.to_be_bytes()); // data reference index
    c.extend_from_slice(&[0; 16]);
    c.extend_from_slice(&width.to_be_bytes());
    c.extend_from_slice(&height.to_be_bytes());
    c.extend_from_slice(&0x0048_0000u32.to_be_bytes());
    c.extend_from_slice(&0x0048_0000u32.to_be_bytes());
    c.extend_from_slice(&[0; 4]);
    c.extend_from_slice(&1u16.to_be_bytes()); // frame count
    c.extend_from_slice(&[0; 32]); // compressor name
    c.extend_from_slice(&0x0018u16.to_be_bytes());
    c.extend_from_slice(&0xFFFFu16.to_be_bytes());
    c.extend_from_slice(&mp4_box(b"avcC", &[1, 0x42, 0xC0, 0x1E, 0xFF, 0xE0, 0]));
    mp4_box(b"avc1", &c)
}

/// An `mp4a` entry with an AAC-LC decoder configuration, 44.1 kHz stereo.
fn mp4a() -> Vec<u8> {
    let mut c = vec![0; 6];
    c.extend_from_slice(&1u16.to_be_bytes());
    c.extend_from_slice(&[0; 8]); // version, revision, vendor
    c.extend_from_slice(&2u16.to_be_bytes()); // channels
    c.extend_from_slice(&16u16.to_be_bytes()); // sample size
    c.extend_from_slice(&[0; 4]);
    c.extend_from_slice(&(44_100u32 << 16).to_be_bytes());
    let specific = [0x05, 0x02, 0x12, 0x10];
    let decoder_config = [
        &[0x04, 13 + 4, 0x40, 0x15, 0, 0, 0][..],
        &[0, 0x01, 0xF4, 0x00, 0, 0x01, 0xF4, 0x00],
        &specific,
    ]
    .concat();
    let es = [
        &[
            0x03,
            u8::try_from(3 + decoder_config.len() + 3).expect("short"),
            0,
            1,
            0,
        ][..],
        &decoder_config,
        &[0x06, 0x01, 0x02],
    ]
    .concat();
    c.extend_from_slice(&full_box(b"esds", 0, 0, &es));
    mp4_box(b"mp4a", &c)
}

fn trak(
    handler: &[u8; 4],
    tkhd_box: Vec<u8>,
    timescale: u32,
    duration: u32,
    stbl_box: Vec<u8>,
) -> Vec<u8> {
    let header = if handler == b"vide" {
        full_box(b"vmhd", 0, 1, &[0; 8])
    } else {
        full_box(b"smhd", 0, 0, &[0; 4])
    };
    let dinf = mp4_box(
        b"dinf",
        &full_box(
            b"dref",
            0,
            0,
            &[&1u32.to_be_bytes()[..], &full_box(b"url ", 0, 1, &[])].concat(),
        ),
    );
    let minf = mp4_box(b"minf", &[header, dinf, stbl_box].concat());
    let name = if handler == b"vide" {
        "VideoHandler"
    } else {
        "SoundHandler"
    };
    let mdia = mp4_box(
        b"mdia",
        &[mdhd(timescale, duration), hdlr(handler, name), minf].concat(),
    );
    mp4_box(b"trak", &[tkhd_box, mdia].concat())
}

fn udta_with_location() -> Vec<u8> {
    let text = b"+48.8577+002.2950/ secret place";
    let mut item = u16::try_from(text.len())
        .expect("short")
        .to_be_bytes()
        .to_vec();
    item.extend_from_slice(&[0x15, 0xC7]);
    item.extend_from_slice(text);
    mp4_box(b"udta", &mp4_box(b"\xA9xyz", &item))
}

fn mp4(spec: &Mp4Video) -> Vec<u8> {
    let ftyp = mp4_box(b"ftyp", b"isom\0\0\x02\0isomiso2avc1mp41");
    let movie_duration = spec.duration / (spec.timescale / 1000).max(1);
    let mut moov = mvhd(1000, movie_duration);
    let delta = spec.duration / spec.frames.max(1);
    moov.extend(trak(
        b"vide",
        tkhd(1, movie_duration, spec.matrix, spec.width, spec.height),
        spec.timescale,
        spec.duration,
        stbl(avc1(spec.width, spec.height), spec.frames, delta),
    ));
    if spec.with_audio {
        let seconds = spec.duration / spec.timescale;
        moov.extend(trak(
            b"soun",
            tkhd(2, movie_duration, IDENTITY, 0, 0),
            44_100,
            44_100 * seconds,
            stbl(mp4a(), 44_100 * seconds / 1024, 1024),
        ));
    }
    if spec.with_udta {
        moov.extend(udta_with_location());
    }
    let moov = mp4_box(b"moov", &moov);
    let mdat = mp4_box(b"mdat", &[0x5A; 512]);
    [ftyp, moov, mdat].concat()
}

/// An audio-only M4A: one AAC track.
fn m4a(seconds: u32) -> Vec<u8> {
    let ftyp = mp4_box(b"ftyp", b"M4A \0\0\x02\0M4A mp42isom");
    let mut moov = mvhd(1000, seconds * 1000);
    moov.extend(trak(
        b"soun",
        tkhd(1, seconds * 1000, IDENTITY, 0, 0),
        44_100,
        44_100 * seconds,
        stbl(mp4a(), 44_100 * seconds / 1024, 1024),
    ));
    [ftyp, mp4_box(b"moov", &moov), mp4_box(b"mdat", &[0; 64])].concat()
}

/// A PCM WAV: `rate` samples per second, 16-bit, `channels`.
fn wav(rate: u32, channels: u16, samples: usize, extra_chunks: &[(&[u8; 4], &[u8])]) -> Vec<u8> {
    let block_align = channels * 2;
    let mut fmt = Vec::new();
    fmt.extend_from_slice(&1u16.to_le_bytes());
    fmt.extend_from_slice(&channels.to_le_bytes());
    fmt.extend_from_slice(&rate.to_le_bytes());
    fmt.extend_from_slice(&(rate * u32::from(block_align)).to_le_bytes());
    fmt.extend_from_slice(&block_align.to_le_bytes());
    fmt.extend_from_slice(&16u16.to_le_bytes());
    let data: Vec<u8> = (0..samples * usize::from(block_align))
        .map(|i| u8::try_from(i % 251).expect("small"))
        .collect();
    let mut chunks = Vec::new();
    let mut chunk = |id: &[u8], body: &[u8]| {
        chunks.extend_from_slice(id);
        chunks.extend_from_slice(&u32::try_from(body.len()).expect("small").to_le_bytes());
        chunks.extend_from_slice(body);
        if body.len() % 2 == 1 {
            chunks.push(0);
        }
    };
    chunk(b"fmt ", &fmt);
    for (id, body) in extra_chunks {
        chunk(*id, body);
    }
    chunk(b"data", &data);
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(
        &u32::try_from(chunks.len() + 4)
            .expect("small")
            .to_le_bytes(),
    );
    out.extend_from_slice(b"WAVE");
    out.extend_from_slice(&chunks);
    out
}

/// MPEG-1 layer III frames at 128 kbit/s, 44.1 kHz, stereo: 417 bytes and
/// 1152 samples each.
fn mp3_frames(count: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..count {
        let mut frame = vec![0xFF, 0xFB, 0x90, 0x64];
        frame.resize(417, u8::try_from(i % 200).expect("small"));
        out.extend_from_slice(&frame);
    }
    out
}

fn id3v2(text: &str) -> Vec<u8> {
    let mut frame = b"TIT2".to_vec();
    frame.extend_from_slice(&be32(text.len() + 1));
    frame.extend_from_slice(&[0, 0, 3]);
    frame.extend_from_slice(text.as_bytes());
    let size = frame.len();
    let syncsafe = [
        u8::try_from((size >> 21) & 0x7F).expect("7 bits"),
        u8::try_from((size >> 14) & 0x7F).expect("7 bits"),
        u8::try_from((size >> 7) & 0x7F).expect("7 bits"),
        u8::try_from(size & 0x7F).expect("7 bits"),
    ];
    [&b"ID3\x04\0\0"[..], &syncsafe, &frame].concat()
}

/// ADTS frames: AAC LC, 44.1 kHz, stereo, 256 bytes, 1024 samples each.
fn adts_frames(count: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for _ in 0..count {
        let mut frame = vec![0xFF, 0xF1, 0x50, 0x80, 0x20, 0x1F, 0xFC];
        frame.resize(256, 0x21);
        out.extend_from_slice(&frame);
    }
    out
}

fn flac_streaminfo(rate: u32, channels: u8, total_samples: u64) -> [u8; 34] {
    let mut s = [0u8; 34];
    s[0..2].copy_from_slice(&4096u16.to_be_bytes());
    s[2..4].copy_from_slice(&4096u16.to_be_bytes());
    // Bits 80..: rate (20), channels - 1 (3), bits per sample - 1 (5),
    // total samples (36).
    let packed: u64 = (u64::from(rate) << 44)
        | (u64::from(channels - 1) << 41)
        | (15u64 << 36)
        | (total_samples & 0xF_FFFF_FFFF);
    s[10..18].copy_from_slice(&packed.to_be_bytes());
    s
}

fn flac(rate: u32, total_samples: u64, comment: Option<&str>) -> Vec<u8> {
    let mut out = b"fLaC".to_vec();
    let last = if comment.is_none() { 0x80 } else { 0 };
    out.push(last);
    out.extend_from_slice(&be32(34)[1..]);
    out.extend_from_slice(&flac_streaminfo(rate, 2, total_samples));
    if let Some(text) = comment {
        out.push(0x80 | 4);
        out.extend_from_slice(&be32(text.len())[1..]);
        out.extend_from_slice(text.as_bytes());
    }
    // The start of a frame, then noise.
    out.extend_from_slice(&[0xFF, 0xF8, 0x69, 0x08]);
    out.resize(out.len() + 200, 0x33);
    out
}

fn ogg_page(flags: u8, granule: i64, serial: u32, sequence: u32, packet: &[u8]) -> Vec<u8> {
    let mut lacing = vec![255u8; packet.len() / 255];
    lacing.push(u8::try_from(packet.len() % 255).expect("remainder"));
    let mut out = b"OggS\0".to_vec();
    out.push(flags);
    out.extend_from_slice(&granule.to_le_bytes());
    out.extend_from_slice(&serial.to_le_bytes());
    out.extend_from_slice(&sequence.to_le_bytes());
    out.extend_from_slice(&[0; 4]); // checksum: not verified
    out.push(u8::try_from(lacing.len()).expect("short packet"));
    out.extend_from_slice(&lacing);
    out.extend_from_slice(packet);
    out
}

fn opus_ogg(seconds: i64) -> Vec<u8> {
    let mut head = b"OpusHead\x01\x02".to_vec();
    head.extend_from_slice(&312u16.to_le_bytes());
    head.extend_from_slice(&48_000u32.to_le_bytes());
    head.extend_from_slice(&[0, 0, 0]);
    let tags = b"OpusTags\x05\0\0\0stoa!\0\0\0\0";
    [
        ogg_page(0x02, 0, 7, 0, &head),
        ogg_page(0x00, 0, 7, 1, tags),
        ogg_page(0x00, 48_000, 7, 2, &[0xFC; 100]),
        ogg_page(0x04, 48_000 * seconds + 312, 7, 3, &[0xFC; 100]),
    ]
    .concat()
}

fn theora_ogg(frames: u64) -> Vec<u8> {
    let mut head = b"\x80theora\x03\x02\x01".to_vec();
    head.extend_from_slice(&20u16.to_be_bytes()); // macroblocks
    head.extend_from_slice(&15u16.to_be_bytes());
    head.extend_from_slice(&[0x00, 0x01, 0x40, 0x00, 0x00, 0xF0]); // 320x240
    head.extend_from_slice(&[0, 0]);
    head.extend_from_slice(&25u32.to_be_bytes());
    head.extend_from_slice(&1u32.to_be_bytes());
    head.extend_from_slice(&[0, 0, 1, 0, 0, 1, 0, 0, 0, 0]);
    // Quality 0, keyframe granule shift 6.
    head.extend_from_slice(&[0x00, 0xC0]);
    // Last granule: keyframe at frames - 3, three frames after it.
    let keyframe = frames - 3;
    let granule = i64::try_from((keyframe << 6) | 3).expect("small");
    [
        ogg_page(0x02, 0, 9, 0, &head),
        ogg_page(0x04, granule, 9, 1, &[0; 50]),
    ]
    .concat()
}

fn ebml_id(id: u32) -> Vec<u8> {
    let bytes = id.to_be_bytes();
    let skip = bytes.iter().position(|&b| b != 0).unwrap_or(3);
    bytes[skip..].to_vec()
}

fn ebml(id: u32, body: &[u8]) -> Vec<u8> {
    // Sizes in 8 bytes, as muxers that patch sizes later write them.
    let mut out = ebml_id(id);
    let mut size = u64::try_from(body.len()).expect("fits").to_be_bytes();
    size[0] = 0x01;
    out.extend_from_slice(&size);
    out.extend_from_slice(body);
    out
}

fn ebml_uint(id: u32, value: u64) -> Vec<u8> {
    ebml(id, &value.to_be_bytes())
}

struct WebmSpec {
    duration_ms: Option<f64>,
    unknown_sizes: bool,
    with_tags: bool,
}

/// A WebM file with a 320x240 VP9 track at 25 fps and an Opus track, one
/// block every 40 ms for `blocks` blocks.
fn webm(spec: &WebmSpec, blocks: u16) -> Vec<u8> {
    let header = ebml(
        0x1A45_DFA3,
        &[
            ebml_uint(0x4286, 1),
            ebml(0x4282, b"webm"),
            ebml_uint(0x4287, 4),
            ebml_uint(0x4285, 2),
        ]
        .concat(),
    );
    let mut info = ebml_uint(0x2A_D7B1, 1_000_000);
    if let Some(ms) = spec.duration_ms {
        info.extend(ebml(0x4489, &ms.to_be_bytes()));
    }
    info.extend(ebml(0x4D80, b"stoa-tests"));
    let video = ebml(
        0xAE,
        &[
            ebml_uint(0xD7, 1),
            ebml_uint(0x83, 1),
            ebml(0x86, b"V_VP9"),
            ebml_uint(0x23_E383, 40_000_000),
            ebml(0xE0, &[ebml_uint(0xB0, 320), ebml_uint(0xBA, 240)].concat()),
        ]
        .concat(),
    );
    let audio = ebml(
        0xAE,
        &[
            ebml_uint(0xD7, 2),
            ebml_uint(0x83, 2),
            ebml(0x86, b"A_OPUS"),
            ebml(
                0xE1,
                &[ebml(0xB5, &48_000f64.to_be_bytes()), ebml_uint(0x9F, 2)].concat(),
            ),
        ]
        .concat(),
    );
    let tracks = ebml(0x1654_AE6B, &[video, audio].concat());
    let mut clusters = Vec::new();
    for cluster_start in (0..blocks).step_by(25) {
        let mut body = ebml_uint(0xE7, u64::from(cluster_start) * 40);
        for n in 0..25.min(blocks - cluster_start) {
            let relative = i16::try_from(n * 40).expect("small");
            let mut block = vec![0x81];
            block.extend_from_slice(&relative.to_be_bytes());
            block.push(0x80);
            block.extend_from_slice(&[0x42; 30]);
            body.extend(ebml(0xA3, &block));
        }
        if spec.unknown_sizes {
            clusters.extend_from_slice(&[
                0x1F, 0x43, 0xB6, 0x75, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
            ]);
            clusters.extend(body);
        } else {
            clusters.extend(ebml(0x1F43_B675, &body));
        }
    }
    let mut segment = [ebml(0x1549_A966, &info), tracks, clusters].concat();
    if spec.with_tags {
        segment.extend(ebml(
            0x1254_C367,
            &ebml(
                0x7373,
                &ebml(
                    0x67C8,
                    &[ebml(0x45A3, b"ARTIST"), ebml(0x4487, b"secret person")].concat(),
                ),
            ),
        ));
    }
    let segment = if spec.unknown_sizes {
        [
            &[
                0x18, 0x53, 0x80, 0x67, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
            ][..],
            &segment,
        ]
        .concat()
    } else {
        ebml(0x1853_8067, &segment)
    };
    [header, segment].concat()
}

// ---------------------------------------------------------------- helpers

fn ok(bytes: &[u8]) -> ProcessedAv {
    match process_av(bytes, &Limits::default()) {
        Ok(av) => av,
        Err(e) => panic!("refused: {e}"),
    }
}

fn close(actual: f64, expected: f64) -> bool {
    (actual - expected).abs() < 1e-3
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

// ---------------------------------------------------------------- tests

#[test]
fn mp4_video_with_sound() {
    let file = mp4(&Mp4Video {
        with_audio: true,
        ..Mp4Video::default()
    });
    let av = ok(&file);
    assert_eq!(av.kind, MediaKind::Video);
    assert_eq!(av.content_type, "video/mp4");
    assert!(close(av.duration_secs, 2.0), "{}", av.duration_secs);
    let video = av.video.expect("video");
    assert_eq!((video.size.width, video.size.height), (320, 240));
    assert_eq!(
        video.frame_rate.map(|r| r.to_string()).as_deref(),
        Some("30/1")
    );
    let audio = av.audio.expect("audio");
    assert_eq!(audio.codec, Some("aac"));
    assert_eq!(audio.sample_rate, Some(44_100));
    assert_eq!(audio.channels, Some(2));
    assert_eq!(
        av.bitrate,
        u64::try_from(file.len() * 8 / 2).expect("small")
    );
    // Nothing to strip: the bytes are kept as they are.
    assert!(!av.metadata_removed);
    assert_eq!(av.original, file);
    assert_eq!(
        check_upload(&file, &Limits::default()),
        Ok((MediaKind::Video, "video/mp4"))
    );
}

#[test]
fn mp4_frame_rates_and_rotation() {
    let ntsc = mp4(&Mp4Video {
        timescale: 30_000,
        duration: 1001 * 90,
        frames: 90,
        ..Mp4Video::default()
    });
    let av = ok(&ntsc);
    assert_eq!(
        av.video
            .and_then(|v| v.frame_rate)
            .map(|r| r.to_string())
            .as_deref(),
        Some("30000/1001")
    );
    assert!(close(av.duration_secs, 3.003), "{}", av.duration_secs);

    let upright = mp4(&Mp4Video {
        width: 1920,
        height: 1080,
        matrix: QUARTER_TURN,
        ..Mp4Video::default()
    });
    let size = ok(&upright).video.expect("video").size;
    assert_eq!((size.width, size.height), (1080, 1920));
}

#[test]
fn mp4_location_and_titles_are_blanked_in_place() {
    let file = mp4(&Mp4Video {
        with_udta: true,
        ..Mp4Video::default()
    });
    assert!(contains(&file, b"secret place"));
    let av = ok(&file);
    assert!(av.metadata_removed);
    assert_eq!(av.original.len(), file.len(), "nothing moves");
    assert!(!contains(&av.original, b"secret place"));
    assert!(!contains(&av.original, b"udta"));
    assert!(contains(&av.original, b"free"));
    // What is stored still reads the same.
    let again = ok(&av.original);
    assert!(!again.metadata_removed);
    assert_eq!(again.video, av.video);
}

#[test]
fn m4a_is_audio() {
    let av = ok(&m4a(3));
    assert_eq!(av.kind, MediaKind::Audio);
    assert_eq!(av.content_type, "audio/mp4");
    assert!(close(av.duration_secs, 3.0));
    assert_eq!(av.video, None);
    assert_eq!(av.audio.and_then(|a| a.codec), Some("aac"));
}

#[test]
fn wav_duration_and_chunks() {
    let file = wav(8_000, 1, 12_000, &[]);
    let av = ok(&file);
    assert_eq!(av.kind, MediaKind::Audio);
    assert_eq!(av.content_type, "audio/wav");
    assert!(close(av.duration_secs, 1.5));
    assert_eq!(length_string(av.duration_secs), "0:00:01.50");
    let audio = av.audio.expect("audio");
    assert_eq!(audio.codec, Some("pcm_s16le"));
    assert_eq!((audio.sample_rate, audio.channels), (Some(8_000), Some(1)));
    assert_eq!(av.original, file);

    let tagged = wav(
        8_000,
        2,
        800,
        &[(b"LIST", b"INFOINAM\x0b\0\0\0secret song\0")],
    );
    let av = ok(&tagged);
    assert!(close(av.duration_secs, 0.1));
    assert!(av.metadata_removed);
    assert_eq!(av.original.len(), tagged.len());
    assert!(!contains(&av.original, b"secret song"));
    assert!(contains(&av.original, b"JUNK"));
    assert!(close(ok(&av.original).duration_secs, 0.1));
}

#[test]
fn mp3_frames_are_counted_and_tags_cut() {
    let frames = mp3_frames(100);
    let av = ok(&frames);
    assert_eq!(av.content_type, "audio/mpeg");
    assert!(
        close(av.duration_secs, 100.0 * 1152.0 / 44_100.0),
        "{}",
        av.duration_secs
    );
    let audio = av.audio.expect("audio");
    assert_eq!(
        (audio.codec, audio.sample_rate, audio.channels),
        (Some("mp3"), Some(44_100), Some(2))
    );
    assert_eq!(av.original, frames);

    let mut id3v1 = b"TAGsecret title".to_vec();
    id3v1.resize(128, 0);
    let tagged = [id3v2("secret title"), frames.clone(), id3v1].concat();
    let av = ok(&tagged);
    assert!(av.metadata_removed);
    assert_eq!(av.original, frames);
}

#[test]
fn a_xing_frame_is_not_sound() {
    let mut frames = mp3_frames(11);
    // Stereo MPEG-1: the Xing tag follows 32 bytes of side information.
    frames[36..40].copy_from_slice(b"Xing");
    let av = ok(&frames);
    assert!(close(av.duration_secs, 10.0 * 1152.0 / 44_100.0));
}

#[test]
fn adts_aac() {
    let av = ok(&adts_frames(430));
    assert_eq!(av.content_type, "audio/aac");
    assert!(close(av.duration_secs, 430.0 * 1024.0 / 44_100.0));
    // Behind an ID3 tag, still AAC.
    let tagged = [id3v2("x"), adts_frames(43)].concat();
    let av = ok(&tagged);
    assert_eq!(av.content_type, "audio/aac");
    assert_eq!(av.original, adts_frames(43));
}

#[test]
fn flac_streaminfo_and_comments() {
    let file = flac(44_100, 44_100 * 5, None);
    let av = ok(&file);
    assert_eq!(av.content_type, "audio/flac");
    assert!(close(av.duration_secs, 5.0));
    assert_eq!(av.audio.and_then(|a| a.channels), Some(2));
    let tagged = flac(48_000, 24_000, Some("ARTIST=secret person"));
    let av = ok(&tagged);
    assert!(close(av.duration_secs, 0.5));
    assert!(av.metadata_removed);
    assert!(!contains(&av.original, b"secret person"));
    assert!(close(ok(&av.original).duration_secs, 0.5));
}

#[test]
fn ogg_opus_and_theora() {
    let av = ok(&opus_ogg(4));
    assert_eq!((av.kind, av.content_type), (MediaKind::Audio, "audio/ogg"));
    assert!(close(av.duration_secs, 4.0), "{}", av.duration_secs);
    assert_eq!(av.audio.and_then(|a| a.codec), Some("opus"));

    let av = ok(&theora_ogg(50));
    assert_eq!((av.kind, av.content_type), (MediaKind::Video, "video/ogg"));
    assert!(close(av.duration_secs, 2.0), "{}", av.duration_secs);
    let video = av.video.expect("video");
    assert_eq!((video.size.width, video.size.height), (320, 240));
    assert_eq!(
        video.frame_rate.map(|r| r.to_string()).as_deref(),
        Some("25/1")
    );
}

#[test]
fn webm_with_and_without_a_duration() {
    let spec = WebmSpec {
        duration_ms: Some(4_000.0),
        unknown_sizes: false,
        with_tags: false,
    };
    let file = webm(&spec, 100);
    let av = ok(&file);
    assert_eq!((av.kind, av.content_type), (MediaKind::Video, "video/webm"));
    assert!(close(av.duration_secs, 4.0));
    let video = av.video.expect("video");
    assert_eq!((video.size.width, video.size.height), (320, 240));
    assert_eq!(
        video.frame_rate.map(|r| r.to_string()).as_deref(),
        Some("25/1")
    );
    let audio = av.audio.expect("audio");
    assert_eq!(
        (audio.codec, audio.sample_rate, audio.channels),
        (Some("opus"), Some(48_000), Some(2))
    );
    assert_eq!(av.original, file);

    // A browser recording: no duration, clusters of unknown size.
    let recording = webm(
        &WebmSpec {
            duration_ms: None,
            unknown_sizes: true,
            with_tags: true,
        },
        60,
    );
    let av = ok(&recording);
    // 60 blocks 40 ms apart, the last lasting 40 ms.
    assert!(close(av.duration_secs, 2.4), "{}", av.duration_secs);
    assert!(av.metadata_removed);
    assert_eq!(av.original.len(), recording.len());
    assert!(!contains(&av.original, b"secret person"));
    assert!(close(ok(&av.original).duration_secs, 2.4));
}

#[test]
fn truncated_files_are_refused() {
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("mp4", mp4(&Mp4Video::default())),
        ("m4a", m4a(2)),
        ("wav", wav(8_000, 1, 8_000, &[])),
        ("mp3", mp3_frames(20)),
        ("aac", adts_frames(20)),
        ("ogg", opus_ogg(2)),
        ("theora", theora_ogg(30)),
        (
            "webm",
            webm(
                &WebmSpec {
                    duration_ms: Some(1_000.0),
                    unknown_sizes: false,
                    with_tags: false,
                },
                25,
            ),
        ),
    ];
    for (name, file) in cases {
        // Off frame and page boundaries: a stream of MP3 frames cut between
        // two frames is a shorter valid file.
        for keep in [file.len() - 1, file.len() - 100, file.len() / 2 + 7, 40, 13] {
            let cut = &file[..keep];
            match process_av(cut, &Limits::default()) {
                Err(MediaError::InvalidAv(_) | MediaError::UnsupportedType) => {}
                Err(other) => panic!("{name} cut to {keep} bytes: {other:?}"),
                Ok(av) => panic!(
                    "{name} cut to {keep} bytes accepted: {} s",
                    av.duration_secs
                ),
            }
        }
    }
    // FLAC frames are not parsed: only a cut inside the headers shows.
    let file = flac(44_100, 44_100, None);
    for keep in [4, 20, 41, 42] {
        assert!(
            matches!(
                process_av(&file[..keep], &Limits::default()),
                Err(MediaError::InvalidAv(_))
            ),
            "flac cut to {keep}"
        );
    }
}

#[test]
fn damaged_and_lying_files_are_refused() {
    let invalid = |bytes: &[u8]| {
        matches!(
            process_av(bytes, &Limits::default()),
            Err(MediaError::InvalidAv(_))
        )
    };

    // An MP4 whose movie box claims more than the file holds.
    let mut file = mp4(&Mp4Video::default());
    let moov = file.windows(4).position(|w| w == b"moov").expect("moov") - 4;
    file[moov..moov + 4].copy_from_slice(&0x7FFF_FFFFu32.to_be_bytes());
    assert!(invalid(&file));
    // No movie box at all.
    assert!(invalid(
        &[
            mp4_box(b"ftyp", b"isom\0\0\0\0isom"),
            mp4_box(b"mdat", &[0; 64])
        ]
        .concat()
    ));
    // A track without any sample description or handler.
    let bare = [
        mp4_box(b"ftyp", b"isom\0\0\0\0isom"),
        mp4_box(
            b"moov",
            &[
                mvhd(1000, 1000),
                mp4_box(b"trak", &tkhd(1, 1000, IDENTITY, 0, 0)),
            ]
            .concat(),
        ),
    ]
    .concat();
    assert!(invalid(&bare));
    // Garbage in the middle of MP3 frames.
    let mut frames = mp3_frames(20);
    frames[417 * 10..417 * 10 + 4].copy_from_slice(b"junk");
    assert!(invalid(&frames));
    // A sample rate that changes midway.
    let mut frames = mp3_frames(20);
    frames[417 * 10 + 2] = 0x94;
    assert!(invalid(&frames));
    // WAV samples before their format, no samples, zero channels.
    let file = wav(8_000, 1, 100, &[]);
    let mut swapped = file[..12].to_vec();
    swapped.extend_from_slice(&file[12 + 24..]);
    swapped.extend_from_slice(&file[12..12 + 24]);
    assert!(invalid(&swapped));
    assert!(invalid(&wav(8_000, 1, 100, &[])[..12 + 24]));
    assert!(invalid(&wav(8_000, 0, 100, &[])));
    // FLAC without a length, or without audio frames.
    assert!(invalid(&flac(44_100, 0, None)));
    assert!(invalid(&flac(44_100, 100, None)[..42]));
    // Ogg with no stream it understands, or a page out of nowhere.
    assert!(invalid(&ogg_page(0x02, 0, 1, 0, b"fishead\0rest")));
    let mut stray = opus_ogg(1);
    stray.extend(ogg_page(0, 10, 99, 0, b"x"));
    assert!(invalid(&stray));
    // A Matroska file that is not WebM is not even recognised.
    let mut mkv = webm(
        &WebmSpec {
            duration_ms: Some(1_000.0),
            unknown_sizes: false,
            with_tags: false,
        },
        25,
    );
    let doc = mkv.windows(4).position(|w| w == b"webm").expect("doc type");
    mkv[doc..doc + 4].copy_from_slice(b"mkvx");
    assert_eq!(
        process_av(&mkv, &Limits::default()),
        Err(MediaError::UnsupportedType)
    );
    // Images and unknown bytes are not video or audio.
    assert_eq!(
        process_av(b"\x89PNG\r\n\x1a\n....", &Limits::default()),
        Err(MediaError::UnsupportedType)
    );
    assert_eq!(
        process_av(b"hello", &Limits::default()),
        Err(MediaError::UnsupportedType)
    );
    assert_eq!(process_av(b"", &Limits::default()), Err(MediaError::Empty));
}

#[test]
fn limits_on_size_length_pixels_and_frame_rate() {
    let defaults = Limits::default();
    // Ten hours claimed by a 1 KB file.
    let long = mp4(&Mp4Video {
        timescale: 1000,
        duration: 36_000_000,
        frames: 300_000,
        ..Mp4Video::default()
    });
    match process_av(&long, &defaults) {
        Err(e @ MediaError::TooLong { limit: 3_600, .. }) => {
            assert_eq!(
                e.to_string(),
                "The file plays too long (10:00:00.00); the limit is 1:00:00.00."
            );
        }
        other => panic!("{other:?}"),
    }
    let long_wav = wav(8_000, 1, 8_000 * 11, &[]);
    let short = Limits {
        max_duration_secs: 10,
        ..Limits::default()
    };
    assert!(matches!(
        process_av(&long_wav, &short),
        Err(MediaError::TooLong { .. })
    ));

    // 65535x65535 pixels claimed.
    let huge = mp4(&Mp4Video {
        width: 65_535,
        height: 65_535,
        ..Mp4Video::default()
    });
    assert_eq!(
        process_av(&huge, &defaults),
        Err(MediaError::VideoTooLarge {
            width: 65_535,
            height: 65_535,
            limit: 33_177_600
        })
    );
    // 1000 frames in one second.
    let fast = mp4(&Mp4Video {
        timescale: 1000,
        duration: 1000,
        frames: 1000,
        ..Mp4Video::default()
    });
    assert!(matches!(
        process_av(&fast, &defaults),
        Err(MediaError::FrameRateTooHigh { limit: 120, .. })
    ));
    // Larger than the video size limit.
    let tiny = Limits {
        max_video_bytes: 100,
        ..Limits::default()
    };
    assert!(matches!(
        process_av(&mp3_frames(1), &tiny),
        Err(MediaError::TooLarge { .. })
    ));
    // No playing time.
    let silent = mp4(&Mp4Video {
        duration: 0,
        ..Mp4Video::default()
    });
    assert!(matches!(
        process_av(&silent, &defaults),
        Err(MediaError::InvalidAv(_))
    ));
}

/// Every prefix and many single-byte corruptions of each sample either
/// parse or are refused with an error: no panic, no hang.
#[test]
fn mangled_inputs_never_panic() {
    let samples = vec![
        mp4(&Mp4Video {
            with_audio: true,
            with_udta: true,
            ..Mp4Video::default()
        }),
        wav(8_000, 1, 200, &[(b"LIST", b"INFO")]),
        [id3v2("t"), mp3_frames(3)].concat(),
        adts_frames(3),
        flac(44_100, 1000, Some("A=B")),
        opus_ogg(1),
        theora_ogg(10),
        webm(
            &WebmSpec {
                duration_ms: None,
                unknown_sizes: true,
                with_tags: true,
            },
            5,
        ),
    ];
    let limits = Limits::default();
    for sample in &samples {
        for keep in 0..sample.len() {
            let _ = process_av(&sample[..keep], &limits);
        }
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        for _ in 0..3_000 {
            // xorshift
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let mut copy = sample.clone();
            let at =
                usize::try_from(state % u64::try_from(copy.len()).expect("small")).expect("small");
            copy[at] = copy[at].wrapping_add(u8::try_from(state >> 56).expect("a byte") | 1);
            let _ = process_av(&copy, &limits);
        }
    }
}
