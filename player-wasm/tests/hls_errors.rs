//! Malformed playlists: each is refused with the error variant that names what is wrong and
//! on which line.

use player_wasm::hls::{PlaylistError, parse_playlist};
use player_wasm::url::Url;

fn error(text: &str) -> PlaylistError {
    let url = Url::parse("https://media.test/p/index.m3u8").unwrap();
    match parse_playlist(text, &url) {
        Ok(playlist) => panic!("expected an error, parsed {playlist:?}"),
        Err(error) => error,
    }
}

/// A media playlist around `segment_lines` (which start on line 3).
fn media_with(segment_lines: &str) -> String {
    format!("#EXTM3U\n#EXT-X-TARGETDURATION:4\n{segment_lines}")
}

fn assert_invalid(text: &str, line: usize, tag: &str, attribute: &str) {
    match error(text) {
        PlaylistError::InvalidValue {
            line: l,
            tag: t,
            attribute: a,
            ..
        } if l == line && t == tag && a == attribute => {}
        other => panic!("expected InvalidValue at {line} {tag} {attribute}, got {other:?}"),
    }
}

fn assert_syntax(text: &str, line: usize, tag: &str) {
    match error(text) {
        PlaylistError::Syntax {
            line: l, tag: t, ..
        } if l == line && t == tag => {}
        other => panic!("expected Syntax at {line} {tag}, got {other:?}"),
    }
}

#[test]
fn without_the_header_it_is_not_a_playlist() {
    for text in [
        "",
        "   \n\n",
        "#EXT-X-VERSION:3\n#EXTM3U\n",
        "# comment first\n#EXTM3U\n",
        "#EXTM3Ux\n",
        "<html></html>",
    ] {
        assert_eq!(error(text), PlaylistError::NotAPlaylist, "{text:?}");
    }
}

#[test]
fn a_header_alone_is_an_empty_playlist() {
    assert_eq!(error("#EXTM3U\n"), PlaylistError::EmptyPlaylist);
    assert_eq!(
        error("#EXTM3U\n#EXT-X-VERSION:4\n# hi\n"),
        PlaylistError::EmptyPlaylist
    );
}

#[test]
fn extinf_must_be_a_finite_non_negative_number() {
    for (value, _why) in [
        ("-1,", "negative"),
        ("abc,", "not a number"),
        ("NaN,", "not a number"),
        ("inf,", "not finite"),
        ("1e3,", "exponent"),
        (&format!("{},", "9".repeat(400)), "too large"),
        (",title", "empty"),
    ] {
        let text = media_with(&format!("#EXTINF:{value}\na.ts\n"));
        assert_invalid(&text, 3, "EXTINF", "duration");
    }
    assert_syntax(&media_with("#EXTINF:\na.ts\n"), 3, "EXTINF");
}

#[test]
fn a_segment_without_extinf_is_refused_at_its_uri_line() {
    let text = media_with("#EXTINF:4,\na.ts\nb.ts\n");
    assert_eq!(
        error(&text),
        PlaylistError::SegmentWithoutDuration { line: 5 }
    );
}

#[test]
fn a_media_playlist_needs_a_target_duration() {
    assert_eq!(
        error("#EXTM3U\n#EXTINF:4,\na.ts\n"),
        PlaylistError::MissingTargetDuration
    );
    assert_syntax(
        "#EXTM3U\n#EXT-X-TARGETDURATION:\n#EXTINF:4,\na.ts\n",
        2,
        "EXT-X-TARGETDURATION",
    );
    assert_invalid(
        "#EXTM3U\n#EXT-X-TARGETDURATION:-10\n#EXTINF:4,\na.ts\n",
        2,
        "EXT-X-TARGETDURATION",
        "value",
    );
}

#[test]
fn byte_ranges_are_checked() {
    let continuing_another_resource = media_with(
        "#EXTINF:4,\n#EXT-X-BYTERANGE:100@0\na.ts\n#EXTINF:4,\n#EXT-X-BYTERANGE:100\nb.ts\n",
    );
    assert_eq!(
        error(&continuing_another_resource),
        PlaylistError::ByteRangeWithoutPredecessor { line: 7 }
    );
    let first_without_offset = media_with("#EXTINF:4,\n#EXT-X-BYTERANGE:100\na.ts\n");
    assert_eq!(
        error(&first_without_offset),
        PlaylistError::ByteRangeWithoutPredecessor { line: 4 }
    );
    for bad in [
        "abc",
        "10@",
        "@5",
        "0@5",
        "-5",
        "1@18446744073709551615",
        "10@5 junk",
    ] {
        let text = media_with(&format!("#EXTINF:4,\n#EXT-X-BYTERANGE:{bad}\na.ts\n"));
        assert_invalid(&text, 4, "EXT-X-BYTERANGE", "value");
    }
    let overflowing_implicit = media_with(
        "#EXTINF:4,\n#EXT-X-BYTERANGE:10@18446744073709551600\na.ts\n\
         #EXTINF:4,\n#EXT-X-BYTERANGE:100\na.ts\n",
    );
    assert!(matches!(
        error(&overflowing_implicit),
        PlaylistError::Overflow { line: 7, .. }
    ));
}

#[test]
fn map_and_key_attributes_are_checked() {
    assert!(matches!(
        error(&media_with("#EXT-X-MAP:BYTERANGE=\"10@0\"\n#EXTINF:4,\na.ts\n")),
        PlaylistError::MissingAttribute { line: 3, tag, attribute } if tag == "EXT-X-MAP" && attribute == "URI"
    ));
    assert_invalid(
        &media_with("#EXT-X-MAP:URI=init.mp4\n#EXTINF:4,\na.ts\n"),
        3,
        "EXT-X-MAP",
        "URI",
    );
    assert_invalid(
        &media_with("#EXT-X-MAP:URI=\"i.mp4\",BYTERANGE=\"x\"\n#EXTINF:4,\na.ts\n"),
        3,
        "EXT-X-MAP",
        "BYTERANGE",
    );
    assert!(matches!(
        error(&media_with("#EXT-X-KEY:URI=\"k\"\n#EXTINF:4,\na.ts\n")),
        PlaylistError::MissingAttribute { attribute, .. } if attribute == "METHOD"
    ));
    assert!(matches!(
        error(&media_with("#EXT-X-KEY:METHOD=AES-128\n#EXTINF:4,\na.ts\n")),
        PlaylistError::MissingAttribute { attribute, .. } if attribute == "URI"
    ));
    assert_invalid(
        &media_with("#EXT-X-KEY:METHOD=AES-128,URI=\"k\",IV=12ab\n#EXTINF:4,\na.ts\n"),
        3,
        "EXT-X-KEY",
        "IV",
    );
}

#[test]
fn broken_attribute_lists_are_syntax_errors() {
    assert_syntax(
        &media_with("#EXT-X-MAP:URI=\"init.mp4\n#EXTINF:4,\na.ts\n"),
        3,
        "EXT-X-MAP",
    );
    assert_syntax(
        "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,CODECS=\"a\"junk\nlow.m3u8\n",
        2,
        "EXT-X-STREAM-INF",
    );
    assert_syntax(
        "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,BANDWIDTH=2\nlow.m3u8\n",
        2,
        "EXT-X-STREAM-INF",
    );
}

#[test]
fn tags_without_value_take_none() {
    assert_syntax(
        &media_with("#EXT-X-DISCONTINUITY:yes\n#EXTINF:4,\na.ts\n"),
        3,
        "EXT-X-DISCONTINUITY",
    );
    assert_syntax(
        &media_with("#EXTINF:4,\na.ts\n#EXT-X-ENDLIST:now\n"),
        5,
        "EXT-X-ENDLIST",
    );
}

#[test]
fn program_date_times_must_be_dates() {
    assert_invalid(
        &media_with("#EXT-X-PROGRAM-DATE-TIME:yesterday\n#EXTINF:4,\na.ts\n"),
        3,
        "EXT-X-PROGRAM-DATE-TIME",
        "value",
    );
    assert_invalid(
        &media_with("#EXT-X-PROGRAM-DATE-TIME:2024-02-30T00:00:00Z\n#EXTINF:4,\na.ts\n"),
        3,
        "EXT-X-PROGRAM-DATE-TIME",
        "value",
    );
}

#[test]
fn playlist_tags_repeated_with_other_values_conflict() {
    let text =
        "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:1\n#EXT-X-MEDIA-SEQUENCE:2\n";
    assert_eq!(
        error(text),
        PlaylistError::ConflictingTag {
            line: 4,
            first_line: 3,
            tag: "EXT-X-MEDIA-SEQUENCE".into()
        }
    );
    assert_invalid(
        "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-PLAYLIST-TYPE:LIVE\n",
        3,
        "EXT-X-PLAYLIST-TYPE",
        "value",
    );
}

#[test]
fn sequence_tags_after_the_first_segment_are_refused() {
    let text = media_with("#EXTINF:4,\na.ts\n#EXT-X-MEDIA-SEQUENCE:3\n");
    assert_eq!(
        error(&text),
        PlaylistError::TagAfterFirstSegment {
            line: 5,
            tag: "EXT-X-MEDIA-SEQUENCE".into()
        }
    );
}

#[test]
fn sequence_numbers_must_not_overflow() {
    let text = media_with(&format!(
        "#EXT-X-MEDIA-SEQUENCE:{}\n#EXTINF:4,\na.ts\n#EXTINF:4,\nb.ts\n",
        u64::MAX
    ));
    assert!(matches!(
        error(&text),
        PlaylistError::Overflow { line: 7, .. }
    ));
    assert_invalid(
        &media_with("#EXT-X-MEDIA-SEQUENCE:99999999999999999999\n"),
        3,
        "EXT-X-MEDIA-SEQUENCE",
        "value",
    );
    let long = format!("{},", f64::MAX);
    let text = media_with(&format!("#EXTINF:{long}\na.ts\n#EXTINF:{long}\nb.ts\n"));
    assert!(matches!(
        error(&text),
        PlaylistError::Overflow { line: 5, .. }
    ));
}

#[test]
fn master_playlist_structure_is_checked() {
    assert_eq!(
        error("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n#EXT-X-STREAM-INF:BANDWIDTH=2\nb.m3u8\n"),
        PlaylistError::StreamInfWithoutUri { line: 2 }
    );
    assert_eq!(
        error("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n"),
        PlaylistError::StreamInfWithoutUri { line: 2 }
    );
    assert_eq!(
        error("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\na.m3u8\nstray.m3u8\n"),
        PlaylistError::UriWithoutStreamInf { line: 4 }
    );
    assert!(matches!(
        error("#EXTM3U\n#EXT-X-STREAM-INF:RESOLUTION=1x1\na.m3u8\n"),
        PlaylistError::MissingAttribute { line: 2, attribute, .. } if attribute == "BANDWIDTH"
    ));
    assert_invalid(
        "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,RESOLUTION=wide\na.m3u8\n",
        2,
        "EXT-X-STREAM-INF",
        "RESOLUTION",
    );
    assert_invalid(
        "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,FRAME-RATE=NaN\na.m3u8\n",
        2,
        "EXT-X-STREAM-INF",
        "FRAME-RATE",
    );
    assert_invalid(
        "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,CODECS=avc1\na.m3u8\n",
        2,
        "EXT-X-STREAM-INF",
        "CODECS",
    );
    assert!(matches!(
        error("#EXTM3U\n#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=1\n"),
        PlaylistError::MissingAttribute { attribute, .. } if attribute == "URI"
    ));
}

#[test]
fn renditions_are_checked() {
    let master = |media: &str| format!("#EXTM3U\n{media}\n#EXT-X-STREAM-INF:BANDWIDTH=1\na.m3u8\n");
    assert_invalid(
        &master("#EXT-X-MEDIA:TYPE=SOUND,GROUP-ID=\"a\",NAME=\"x\""),
        2,
        "EXT-X-MEDIA",
        "TYPE",
    );
    assert!(matches!(
        error(&master("#EXT-X-MEDIA:TYPE=AUDIO,NAME=\"x\"")),
        PlaylistError::MissingAttribute { attribute, .. } if attribute == "GROUP-ID"
    ));
    assert_invalid(
        &master("#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",NAME=\"\""),
        2,
        "EXT-X-MEDIA",
        "NAME",
    );
    assert_invalid(
        &master("#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID=\"c\",NAME=\"x\",INSTREAM-ID=\"CC9\""),
        2,
        "EXT-X-MEDIA",
        "INSTREAM-ID",
    );
    assert_syntax(
        &master(
            "#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID=\"c\",NAME=\"x\",INSTREAM-ID=\"CC1\",URI=\"c.m3u8\"",
        ),
        2,
        "EXT-X-MEDIA",
    );
    assert_invalid(
        &master("#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",NAME=\"x\",DEFAULT=PERHAPS"),
        2,
        "EXT-X-MEDIA",
        "DEFAULT",
    );
}

#[test]
fn master_and_media_tags_cannot_mix() {
    assert_eq!(
        error("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-STREAM-INF:BANDWIDTH=1\na.m3u8\n"),
        PlaylistError::MixedPlaylist {
            master_line: 3,
            master_tag: "EXT-X-STREAM-INF".into(),
            media_line: 2,
            media_tag: "EXT-X-TARGETDURATION".into()
        }
    );
}

#[test]
fn unresolvable_uris_name_their_line() {
    match error(&media_with("#EXTINF:4,\nhttp://[bad-host/a.ts\n")) {
        PlaylistError::BadUri { line: 4, uri, .. } => assert_eq!(uri, "http://[bad-host/a.ts"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        error("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\nhttp://:99/x\n"),
        PlaylistError::BadUri { line: 3, .. }
    ));
}

#[test]
fn undefined_variables_are_refused() {
    let text = "#EXTM3U\n#EXT-X-DEFINE:NAME=\"a\",VALUE=\"1\"\n#EXT-X-TARGETDURATION:4\n#EXTINF:4,\n{$b}.ts\n";
    assert_eq!(
        error(text),
        PlaylistError::UndefinedVariable {
            line: 5,
            name: "b".into()
        }
    );
}

#[test]
fn the_message_names_line_tag_and_attribute() {
    let message = error(&media_with("#EXT-X-MAP:URI=\"i.mp4\",BYTERANGE=\"x\"\n")).to_string();
    assert!(message.starts_with("line 3: EXT-X-MAP:"), "{message}");
    assert!(message.contains("BYTERANGE"), "{message}");
    let error = error(&media_with("#EXTINF:4,\nb.ts\nc.ts\n"));
    assert_eq!(error.line(), Some(5));
    assert_eq!(error.to_string(), "line 5: media segment without EXTINF");
}
