//! The HLS model filled from small hand-written playlists, one feature at a time.

use player_wasm::hls::{
    ByteRange, MasterPlaylist, MediaPlaylist, Playlist, PlaylistType, RenditionKind, Resolution,
    parse_playlist,
};
use player_wasm::url::Url;

const BASE: &str = "https://media.test/shows/ep1/index.m3u8";

fn base() -> Url {
    Url::parse(BASE).unwrap()
}

fn media(text: &str) -> MediaPlaylist {
    match parse_playlist(text, &base()) {
        Ok(Playlist::Media(media)) => media,
        other => panic!("expected a media playlist, got {other:?}"),
    }
}

fn master(text: &str) -> MasterPlaylist {
    match parse_playlist(text, &base()) {
        Ok(Playlist::Master(master)) => master,
        other => panic!("expected a master playlist, got {other:?}"),
    }
}

fn urls(media: &MediaPlaylist) -> Vec<&str> {
    media.segments.iter().map(|s| s.uri.as_str()).collect()
}

const LADDER: &str = r#"#EXTM3U
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aac",NAME="English",LANGUAGE="en",DEFAULT=YES,AUTOSELECT=YES,CHANNELS="2",URI="audio/en.m3u8"
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aac",NAME="Deutsch",LANGUAGE="de",ASSOC-LANGUAGE="de-AT",URI="../shared/de.m3u8"
#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="English CC",LANGUAGE="en",FORCED=YES,CHARACTERISTICS="public.accessibility.describes-spoken-dialog",URI="subs/en.m3u8"
#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID="cc",NAME="608",INSTREAM-ID="CC1"
#EXT-X-STREAM-INF:BANDWIDTH=2400000,AVERAGE-BANDWIDTH=2000000,CODECS="avc1.64001f, mp4a.40.2",RESOLUTION=1280x720,FRAME-RATE=29.970,AUDIO="aac",SUBTITLES="subs",CLOSED-CAPTIONS="cc"
hd/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=800000,CODECS="avc1.42c01e,mp4a.40.2",RESOLUTION=640x360,AUDIO="aac",CLOSED-CAPTIONS=NONE
https://other.test/sd.m3u8
#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=150000,CODECS="avc1.64001f",RESOLUTION=1280x720,URI="hd/iframes.m3u8"
#EXT-X-START:TIME-OFFSET=-12.5,PRECISE=YES
"#;

#[test]
fn a_master_playlist_gives_variants_with_resolved_uris_and_attributes() {
    let master = master(LADDER);
    assert!(master.independent_segments);
    assert_eq!(master.variants.len(), 2);
    let hd = &master.variants[0];
    assert_eq!(
        hd.uri.as_str(),
        "https://media.test/shows/ep1/hd/index.m3u8"
    );
    assert_eq!(hd.bandwidth, 2_400_000);
    assert_eq!(hd.average_bandwidth, Some(2_000_000));
    assert_eq!(hd.codecs, ["avc1.64001f", "mp4a.40.2"]);
    assert_eq!(
        hd.resolution,
        Some(Resolution {
            width: 1280,
            height: 720
        })
    );
    assert_eq!(hd.frame_rate, Some(29.97));
    assert_eq!(hd.audio_group.as_deref(), Some("aac"));
    assert_eq!(hd.subtitles_group.as_deref(), Some("subs"));
    assert_eq!(hd.closed_captions_group.as_deref(), Some("cc"));
    let sd = &master.variants[1];
    assert_eq!(sd.uri.as_str(), "https://other.test/sd.m3u8");
    assert_eq!(sd.average_bandwidth, None);
    assert_eq!(sd.frame_rate, None);
    assert_eq!(sd.closed_captions_group, None, "CLOSED-CAPTIONS=NONE");
    assert_eq!(master.variants_by_bandwidth(), [1, 0]);
}

#[test]
fn a_master_playlist_gives_renditions_and_iframe_variants() {
    let master = master(LADDER);
    assert_eq!(master.renditions.len(), 4);
    let english = &master.renditions[0];
    assert_eq!(english.kind, RenditionKind::Audio);
    assert_eq!(english.group_id, "aac");
    assert_eq!(english.name, "English");
    assert_eq!(english.language.as_deref(), Some("en"));
    assert!(english.default && english.autoselect && !english.forced);
    assert_eq!(english.channels.as_deref(), Some("2"));
    assert_eq!(
        english.uri.as_ref().map(Url::as_str),
        Some("https://media.test/shows/ep1/audio/en.m3u8")
    );
    let german = &master.renditions[1];
    assert_eq!(german.assoc_language.as_deref(), Some("de-AT"));
    assert_eq!(
        german.uri.as_ref().map(Url::as_str),
        Some("https://media.test/shows/shared/de.m3u8")
    );
    let subtitles = &master.renditions[2];
    assert_eq!(subtitles.kind, RenditionKind::Subtitles);
    assert!(subtitles.forced);
    assert!(subtitles.characteristics.is_some());
    let captions = &master.renditions[3];
    assert_eq!(captions.kind, RenditionKind::ClosedCaptions);
    assert_eq!(captions.instream_id.as_deref(), Some("CC1"));
    assert_eq!(captions.uri, None);

    assert_eq!(master.audio_renditions("aac").count(), 2);
    assert_eq!(master.subtitle_renditions("subs").count(), 1);
    assert_eq!(master.audio_renditions("nope").count(), 0);
    assert_eq!(
        master
            .default_rendition(RenditionKind::Audio, "aac")
            .map(|r| r.name.as_str()),
        Some("English")
    );

    assert_eq!(master.iframe_variants.len(), 1);
    assert_eq!(
        master.iframe_variants[0].uri.as_str(),
        "https://media.test/shows/ep1/hd/iframes.m3u8"
    );
    let start = master.start.unwrap();
    assert_eq!((start.time_offset, start.precise), (-12.5, true));
}

#[test]
fn a_media_playlist_places_segments_on_a_timeline() {
    let media = media(
        "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:6\n#EXT-X-MEDIA-SEQUENCE:41\n\
         #EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:6.006,first\nseg41.ts\n#EXTINF:5.5,\nseg42.ts\n\
         #EXTINF:2\n/abs/seg43.ts\n#EXT-X-ENDLIST\n",
    );
    assert_eq!(media.target_duration, 6.0);
    assert_eq!(media.media_sequence, 41);
    assert_eq!(media.playlist_type, Some(PlaylistType::Vod));
    assert!(media.ended && !media.is_live());
    assert_eq!(
        urls(&media),
        [
            "https://media.test/shows/ep1/seg41.ts",
            "https://media.test/shows/ep1/seg42.ts",
            "https://media.test/abs/seg43.ts",
        ]
    );
    let sequences: Vec<u64> = media.segments.iter().map(|s| s.sequence).collect();
    assert_eq!(sequences, [41, 42, 43]);
    let starts: Vec<f64> = media.segments.iter().map(|s| s.start).collect();
    assert_eq!(starts, [0.0, 6.006, 6.006 + 5.5]);
    assert_eq!(
        media.segments[0].duration, 6.006,
        "EXTINF kept as f64, exactly"
    );
    assert_eq!(media.segments[0].title.as_deref(), Some("first"));
    assert_eq!(media.segments[1].title, None);
    assert_eq!(media.duration(), 6.006 + 5.5 + 2.0);
    assert_eq!(media.end(), media.segments[2].end());
}

#[test]
fn segment_lookup_by_time_and_by_sequence() {
    let media = media(
        "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:10\n\
         #EXTINF:4,\na.ts\n#EXTINF:0,\nempty.ts\n#EXTINF:4,\nb.ts\n",
    );
    assert!(media.is_live());
    assert_eq!(media.segment_index_at(0.0), Some(0));
    assert_eq!(media.segment_index_at(3.999), Some(0));
    assert_eq!(
        media.segment_index_at(4.0),
        Some(2),
        "the empty segment holds no time"
    );
    assert_eq!(media.segment_index_at(7.5), Some(2));
    assert_eq!(media.segment_index_at(8.0), None, "the very end");
    assert_eq!(media.segment_index_at(-0.1), None);
    assert_eq!(media.segment_index_at(f64::NAN), None);
    assert_eq!(media.index_of_sequence(10), Some(0));
    assert_eq!(media.index_of_sequence(12), Some(2));
    assert_eq!(media.index_of_sequence(13), None);
    assert_eq!(media.index_of_sequence(9), None);
    assert_eq!(media.segment_by_sequence(11).map(|s| s.duration), Some(0.0));
    assert_eq!(media.last_sequence(), Some(12));
}

#[test]
fn byte_ranges_get_explicit_offsets() {
    let media = media(
        "#EXTM3U\n#EXT-X-TARGETDURATION:4\n\
         #EXTINF:4,\n#EXT-X-BYTERANGE:1000@0\nmain.ts\n\
         #EXTINF:4,\n#EXT-X-BYTERANGE:500\nmain.ts\n\
         #EXTINF:4,\n#EXT-X-BYTERANGE:200@50\nother.ts\n\
         #EXTINF:4,\n#EXT-X-BYTERANGE:300\nmain.ts\n\
         #EXTINF:4,\n#EXT-X-BYTERANGE:10\nother.ts\n\
         #EXTINF:4,\nwhole.ts\n",
    );
    let ranges: Vec<Option<ByteRange>> = media.segments.iter().map(|s| s.byte_range).collect();
    let range = |offset, length| Some(ByteRange { offset, length });
    assert_eq!(
        ranges,
        [
            range(0, 1000),
            range(1000, 500),
            range(50, 200),
            range(1500, 300),
            range(250, 10),
            None
        ]
    );
    assert_eq!(ranges[1].unwrap().http_header(), "bytes=1000-1499");
}

#[test]
fn the_map_in_effect_applies_to_every_following_segment() {
    let media = media(
        "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\nbefore.m4s\n\
         #EXT-X-MAP:URI=\"init-a.mp4\",BYTERANGE=\"720@0\"\n#EXTINF:4,\na1.m4s\n#EXTINF:4,\na2.m4s\n\
         #EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI=\"../init-b.mp4\"\n#EXTINF:4,\nb1.m4s\n",
    );
    let inits: Vec<Option<(String, Option<ByteRange>)>> = media
        .segments
        .iter()
        .map(|s| s.init.as_ref().map(|i| (i.uri.to_string(), i.byte_range)))
        .collect();
    let a = (
        "https://media.test/shows/ep1/init-a.mp4".to_owned(),
        Some(ByteRange {
            offset: 0,
            length: 720,
        }),
    );
    let b = ("https://media.test/shows/init-b.mp4".to_owned(), None);
    assert_eq!(inits, [None, Some(a.clone()), Some(a), Some(b)]);
}

#[test]
fn keys_apply_until_the_next_key_tag_and_method_none_clears_them() {
    let media = media(
        "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\nclear.ts\n\
         #EXT-X-KEY:METHOD=AES-128,URI=\"keys/k1\",IV=0x00000000000000000000000000000abc\n\
         #EXTINF:4,\nk1a.ts\n#EXTINF:4,\nk1b.ts\n\
         #EXT-X-KEY:METHOD=SAMPLE-AES,URI=\"skd://asset\",KEYFORMAT=\"com.apple.streamingkeydelivery\"\n\
         #EXTINF:4,\nk2.ts\n#EXT-X-KEY:METHOD=NONE\n#EXTINF:4,\nclear-again.ts\n",
    );
    let keys: Vec<Option<(&str, Option<&str>)>> = media
        .segments
        .iter()
        .map(|s| {
            s.key
                .as_ref()
                .map(|k| (k.method.as_str(), k.uri.as_ref().map(Url::as_str)))
        })
        .collect();
    let k1 = Some(("AES-128", Some("https://media.test/shows/ep1/keys/k1")));
    assert_eq!(
        keys,
        [
            None,
            k1,
            k1,
            Some(("SAMPLE-AES", Some("skd://asset"))),
            None
        ]
    );
    let first_key = media.segments[1].key.as_ref().unwrap();
    assert_eq!(
        first_key.iv.as_deref(),
        Some("0x00000000000000000000000000000abc")
    );
    assert_eq!(
        media.segments[3]
            .key
            .as_ref()
            .unwrap()
            .key_format
            .as_deref(),
        Some("com.apple.streamingkeydelivery")
    );
}

#[test]
fn discontinuities_number_the_segments_after_them() {
    let media = media(
        "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-DISCONTINUITY-SEQUENCE:7\n\
         #EXTINF:4,\na.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:4,\nb.ts\n#EXTINF:4,\nc.ts\n\
         #EXT-X-DISCONTINUITY\n#EXTINF:4,\nd.ts\n",
    );
    assert_eq!(media.discontinuity_sequence, 7);
    let flags: Vec<(bool, u64)> = media
        .segments
        .iter()
        .map(|s| (s.discontinuity, s.discontinuity_sequence))
        .collect();
    assert_eq!(flags, [(false, 7), (true, 8), (false, 8), (true, 9)]);
}

#[test]
fn gap_segments_are_flagged() {
    let media = media(
        "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\na.ts\n#EXT-X-GAP\n#EXTINF:4,\nmissing.ts\n\
         #EXTINF:4,\nc.ts\n",
    );
    let gaps: Vec<bool> = media.segments.iter().map(|s| s.gap).collect();
    assert_eq!(gaps, [false, true, false]);
}

#[test]
fn program_date_times_carry_forward_and_reset_at_discontinuities() {
    let media = media(
        "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\nbefore.ts\n\
         #EXT-X-PROGRAM-DATE-TIME:2024-05-01T12:00:00.000Z\n#EXTINF:4,\na.ts\n#EXTINF:2.5,\nb.ts\n\
         #EXTINF:4,\nc.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:4,\nd.ts\n\
         #EXT-X-PROGRAM-DATE-TIME:2024-05-01T14:00:00+02:00\n#EXTINF:4,\ne.ts\n",
    );
    let noon = 1_714_564_800_000.0;
    let dates: Vec<Option<f64>> = media
        .segments
        .iter()
        .map(|s| s.program_date_time_ms)
        .collect();
    assert_eq!(
        dates,
        [
            None,
            Some(noon),
            Some(noon + 4000.0),
            Some(noon + 6500.0),
            None,
            Some(noon)
        ]
    );
}

#[test]
fn start_offsets_event_playlists_and_iframe_playlists() {
    let media = media(
        "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-PLAYLIST-TYPE:EVENT\n#EXT-X-I-FRAMES-ONLY\n\
         #EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-START:TIME-OFFSET=8\n\
         #EXTINF:1,\n#EXT-X-BYTERANGE:100@376\niframes.ts\n",
    );
    assert_eq!(media.playlist_type, Some(PlaylistType::Event));
    assert!(media.iframes_only && media.independent_segments && media.is_live());
    let start = media.start.unwrap();
    assert_eq!((start.time_offset, start.precise), (8.0, false));
}

#[test]
fn a_delta_update_numbers_segments_after_the_skipped_ones() {
    let media = media(
        "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:100\n\
         #EXT-X-SKIP:SKIPPED-SEGMENTS=20\n#EXTINF:4,\na.ts\n#EXTINF:4,\nb.ts\n",
    );
    assert_eq!(media.media_sequence, 120);
    assert_eq!(media.segments[1].sequence, 121);
}

#[test]
fn variables_are_substituted() {
    let url = Url::parse("https://media.test/p/index.m3u8?session=s42").unwrap();
    let text = "#EXTM3U\n#EXT-X-DEFINE:NAME=\"cdn\",VALUE=\"https://edge.test\"\n\
                #EXT-X-DEFINE:QUERYPARAM=\"session\"\n#EXT-X-TARGETDURATION:4\n\
                #EXT-X-MAP:URI=\"{$cdn}/init.mp4\"\n#EXTINF:4,\n{$cdn}/a.m4s?s={$session}\n";
    let Ok(Playlist::Media(media)) = parse_playlist(text, &url) else {
        panic!("should parse");
    };
    assert_eq!(
        media.segments[0].uri.as_str(),
        "https://edge.test/a.m4s?s=s42"
    );
    assert_eq!(
        media.segments[0].init.as_ref().unwrap().uri.as_str(),
        "https://edge.test/init.mp4"
    );
}

#[test]
fn low_latency_steering_session_and_interstitial_tags_are_accepted() {
    let media = media(
        "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-VERSION:9\n\
         #EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1.0\n#EXT-X-PART-INF:PART-TARGET=0.5\n\
         #EXT-X-PROGRAM-DATE-TIME:2024-01-01T00:00:00Z\n\
         #EXT-X-DATERANGE:ID=\"ad1\",CLASS=\"com.apple.hls.interstitial\",START-DATE=\"2024-01-01T00:00:02Z\",X-ASSET-URI=\"https://ads.test/a.m3u8\"\n\
         #EXTINF:4,\na.m4s\n#EXT-X-PART:DURATION=0.5,URI=\"b.0.m4s\",INDEPENDENT=YES\n\
         #EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"b.1.m4s\"\n\
         #EXT-X-RENDITION-REPORT:URI=\"../low/index.m3u8\",LAST-MSN=0\n",
    );
    assert_eq!(media.segments.len(), 1);
    let master = master(
        "#EXTM3U\n#EXT-X-CONTENT-STEERING:SERVER-URI=\"/steer\",PATHWAY-ID=\"A\"\n\
         #EXT-X-SESSION-DATA:DATA-ID=\"com.test.title\",VALUE=\"Title\"\n\
         #EXT-X-SESSION-KEY:METHOD=SAMPLE-AES,URI=\"skd://k\"\n\
         #EXT-X-STREAM-INF:BANDWIDTH=1000,PATHWAY-ID=\"A\",HDCP-LEVEL=NONE,VIDEO-RANGE=SDR\nlow.m3u8\n",
    );
    assert_eq!(master.variants.len(), 1);
}

#[test]
fn harmless_quirks_are_tolerated() {
    let text = "\u{feff}#EXTM3U\r\n#EXT-X-TARGETDURATION: 4 \r\n\r\n# a comment\r\n\
                #EXT-X-UNKNOWN-TAG:whatever,\"odd\r\n#EXT-X-ALLOW-CACHE:MAYBE\r\n\
                #EXTINF:10.0,title, with, commas\r\n  seg1.ts  \r\n\
                #EXTINF:4\r\nseg2.ts\r\n#EXT-X-ENDLIST\r\n#EXT-X-ENDLIST";
    let media = media(text);
    assert_eq!(media.target_duration, 4.0);
    assert_eq!(media.segments.len(), 2);
    assert_eq!(
        media.segments[0].duration, 10.0,
        "longer than the target: tolerated"
    );
    assert_eq!(
        media.segments[0].title.as_deref(),
        Some("title, with, commas")
    );
    assert_eq!(
        media.segments[0].uri.as_str(),
        "https://media.test/shows/ep1/seg1.ts"
    );
    let master = master(
        "\n#EXTM3U\n#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"s\",NAME=\"de\",FORCED=\"NO\",LANGUAGE=\"\",URI=\"de.m3u8\"\n\
         #EXT-X-STREAM-INF:BANDWIDTH=1,  CODECS=\"avc1.64001F\",\n\nlow.m3u8",
    );
    assert_eq!(master.renditions[0].language, None);
    assert_eq!(master.variants[0].codecs, ["avc1.64001F"]);
}

#[test]
fn an_empty_live_playlist_and_a_master_without_variants_parse() {
    let empty = media("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:5\n");
    assert!(empty.segments.is_empty() && empty.is_live());
    assert_eq!((empty.duration(), empty.end()), (0.0, 0.0));
    assert_eq!(empty.segment_index_at(0.0), None);
    let session_only = master("#EXTM3U\n#EXT-X-SESSION-DATA:DATA-ID=\"a\",URI=\"a.json\"\n");
    assert!(session_only.variants.is_empty());
}

#[test]
fn the_model_serializes_with_its_kind() {
    let playlist = parse_playlist(LADDER, &base()).unwrap();
    let json = serde_json::to_value(&playlist).unwrap();
    assert_eq!(json["kind"], "master");
    assert_eq!(playlist.url().as_str(), BASE);
    assert!(playlist.as_master().is_some() && playlist.as_media().is_none());
}
