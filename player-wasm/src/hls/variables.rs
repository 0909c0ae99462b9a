//! Variable substitution (`EXT-X-DEFINE`, RFC 8216bis section 4.3): every `{$name}` in a
//! URI line or a tag value is replaced by its value before anything else reads the playlist.
//!
//! `NAME`/`VALUE` definitions and `QUERYPARAM` (taken from the playlist URL) are
//! substituted. `IMPORT` needs the master playlist that loaded this one, which a single
//! playlist does not have: such references, and `QUERYPARAM` ones whose parameter is not in
//! the URL, are left as written. Playlists without `EXT-X-DEFINE` are not touched at all.

use crate::small_map::SmallMap;

use crate::url::Url;

use super::attributes::{Attributes, TagAt};
use super::error::PlaylistError;
use super::lines::{LineKind, classify};

const DEFINE: &str = "EXT-X-DEFINE";

/// Longest line that substitution may produce, and most bytes it may add to a playlist:
/// references to long values must not turn a small playlist into a huge one.
const MAX_LINE_BYTES: usize = 1 << 20;
const MAX_ADDED_BYTES: usize = 16 << 20;

/// Substitutes variable references in `lines` (see the module documentation).
pub(crate) fn substitute_variables(lines: &mut [String], url: &Url) -> Result<(), PlaylistError> {
    let Some(variables) = collect_definitions(lines, url)? else {
        return Ok(());
    };
    let mut added_bytes = 0usize;
    for (index, line) in lines.iter_mut().enumerate() {
        let number = index + 1;
        let Some(substituted) = substitute_line(line, &variables, number)? else {
            continue;
        };
        added_bytes = added_bytes.saturating_add(substituted.len().saturating_sub(line.len()));
        if substituted.len() > MAX_LINE_BYTES || added_bytes > MAX_ADDED_BYTES {
            return Err(PlaylistError::Overflow {
                line: number,
                what: "variable substitution".to_owned(),
            });
        }
        *line = substituted;
    }
    Ok(())
}

/// The variables a playlist declares.
#[derive(Debug, Default)]
struct Variables {
    /// Name → value, for the ones that can be substituted.
    values: SmallMap<String, String>,
    /// Declared, but their value is not known here (`IMPORT`, absent `QUERYPARAM`).
    unresolved: SmallMap<String, ()>,
    /// Name → line of its declaration, to refuse a second one.
    declared_on: SmallMap<String, usize>,
}

/// The playlist's variables, or `None` when it has no `EXT-X-DEFINE`.
fn collect_definitions(lines: &[String], url: &Url) -> Result<Option<Variables>, PlaylistError> {
    let mut variables: Option<Variables> = None;
    for (index, line) in lines.iter().enumerate() {
        let LineKind::Tag {
            name: DEFINE,
            value,
        } = classify(line)
        else {
            continue;
        };
        let tag = TagAt {
            line: index + 1,
            name: DEFINE,
        };
        let attributes = Attributes::parse(tag, value.unwrap_or(""))?;
        declare(
            &attributes,
            url,
            variables.get_or_insert_with(Variables::default),
        )?;
    }
    Ok(variables)
}

/// Records one `EXT-X-DEFINE`.
fn declare(
    attributes: &Attributes<'_>,
    url: &Url,
    variables: &mut Variables,
) -> Result<(), PlaylistError> {
    let tag = attributes.tag();
    let (attribute, name, value) = if let Some(name) = attributes.quoted("NAME")? {
        let value = attributes
            .quoted("VALUE")?
            .ok_or_else(|| tag.missing("VALUE"))?;
        ("NAME", name, Some(value.to_owned()))
    } else if let Some(name) = attributes.quoted("IMPORT")? {
        ("IMPORT", name, None)
    } else if let Some(name) = attributes.quoted("QUERYPARAM")? {
        ("QUERYPARAM", name, query_parameter(url, name))
    } else {
        return Err(tag.missing("NAME"));
    };
    if !is_variable_name(name) {
        return Err(tag.invalid(attribute, name, "expected [a-zA-Z0-9_-]+"));
    }
    if let Some(value) = &value
        && value.chars().any(char::is_control)
    {
        return Err(tag.invalid(attribute, name, "the value contains a control character"));
    }
    if let Some(first) = variables.declared_on.insert(name.to_owned(), tag.line) {
        let reason = format!("already declared on line {first}");
        return Err(tag.invalid(attribute, name, &reason));
    }
    match value {
        Some(value) => {
            variables.values.insert(name.to_owned(), value);
        }
        None => {
            variables.unresolved.insert(name.to_owned(), ());
        }
    }
    Ok(())
}

fn query_parameter(url: &Url, name: &str) -> Option<String> {
    url.query_parameter(name)
}

fn is_variable_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(is_variable_name_byte)
}

fn is_variable_name_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_'
}

/// `line` with its references substituted, or `None` if nothing changes.
fn substitute_line(
    line: &str,
    variables: &Variables,
    number: usize,
) -> Result<Option<String>, PlaylistError> {
    let substitutable = match classify(line) {
        LineKind::Uri(uri) => uri,
        LineKind::Tag {
            name,
            value: Some(value),
        } if name != DEFINE => value,
        _ => return Ok(None),
    };
    if !crate::small_str::contains(substitutable, "{$") {
        return Ok(None);
    }
    let prefix = &line[..line.len() - substitutable.len()];
    let mut out = String::with_capacity(line.len());
    out.push_str(prefix);
    let mut rest = substitutable;
    while let Some(start) = crate::small_str::find(rest, "{$") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match reference_name(after) {
            Some(name) => {
                out.push_str(&replacement(name, variables, number)?);
                rest = &after[name.len() + 1..];
            }
            None => {
                out.push_str("{$");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Ok(Some(out))
}

/// The variable name of a reference whose `{$` was just consumed, if `text` continues with
/// `name}`.
fn reference_name(text: &str) -> Option<&str> {
    let end = text
        .bytes()
        .take_while(|&b| is_variable_name_byte(b))
        .count();
    (end > 0 && text[end..].starts_with('}')).then(|| &text[..end])
}

fn replacement(name: &str, variables: &Variables, line: usize) -> Result<String, PlaylistError> {
    if let Some(value) = variables.values.get(name) {
        Ok(value.clone())
    } else if variables.unresolved.contains_key(name) {
        Ok(format!("{{${name}}}"))
    } else {
        Err(PlaylistError::UndefinedVariable {
            line,
            name: name.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hls::lines::split_lines;

    fn substituted(text: &str, url: &str) -> Result<Vec<String>, PlaylistError> {
        let mut lines = split_lines(text);
        substitute_variables(&mut lines, &Url::parse(url).unwrap())?;
        Ok(lines)
    }

    #[test]
    fn values_and_query_parameters_are_substituted() {
        let lines = substituted(
            "#EXTM3U\n#EXT-X-DEFINE:NAME=\"host\",VALUE=\"cdn.test\"\n\
             #EXT-X-DEFINE:QUERYPARAM=\"token\"\n\
             #EXT-X-MAP:URI=\"https://{$host}/init.mp4?t={$token}\"\n\
             https://{$host}/a.ts?t={$token}\n# {$host} stays in comments\n",
            "https://origin.test/p.m3u8?token=abc",
        )
        .unwrap();
        assert_eq!(
            lines[3],
            "#EXT-X-MAP:URI=\"https://cdn.test/init.mp4?t=abc\""
        );
        assert_eq!(lines[4], "https://cdn.test/a.ts?t=abc");
        assert_eq!(lines[5], "# {$host} stays in comments");
    }

    #[test]
    fn unknown_imports_and_absent_query_parameters_stay_as_written() {
        let lines = substituted(
            "#EXTM3U\n#EXT-X-DEFINE:IMPORT=\"auth\"\n#EXT-X-DEFINE:QUERYPARAM=\"q\"\nx{$auth}{$q}\n",
            "file:///p.m3u8",
        )
        .unwrap();
        assert_eq!(lines[3], "x{$auth}{$q}");
    }

    #[test]
    fn without_define_nothing_is_substituted() {
        let lines = substituted("#EXTM3U\na{$b}.ts\n", "file:///p.m3u8").unwrap();
        assert_eq!(lines[1], "a{$b}.ts");
    }

    #[test]
    fn text_that_is_not_a_reference_is_kept() {
        let lines = substituted(
            "#EXTM3U\n#EXT-X-DEFINE:NAME=\"a\",VALUE=\"1\"\n{$}{$a b}{$a}{$\n",
            "file:///p.m3u8",
        )
        .unwrap();
        assert_eq!(lines[2], "{$}{$a b}1{$");
    }

    #[test]
    fn undefined_references_and_redefinitions_are_errors() {
        let undefined = substituted(
            "#EXTM3U\n#EXT-X-DEFINE:NAME=\"a\",VALUE=\"1\"\n\n{$b}.ts\n",
            "file:///p.m3u8",
        );
        assert_eq!(
            undefined,
            Err(PlaylistError::UndefinedVariable {
                line: 4,
                name: "b".into()
            })
        );
        let twice = substituted(
            "#EXTM3U\n#EXT-X-DEFINE:NAME=\"a\",VALUE=\"1\"\n#EXT-X-DEFINE:IMPORT=\"a\"\n",
            "file:///p.m3u8",
        );
        assert!(matches!(
            twice,
            Err(PlaylistError::InvalidValue { line: 3, .. })
        ));
        let bad_name = substituted(
            "#EXTM3U\n#EXT-X-DEFINE:NAME=\"a.b\",VALUE=\"1\"\n",
            "file:///p",
        );
        assert!(matches!(
            bad_name,
            Err(PlaylistError::InvalidValue { line: 2, .. })
        ));
        let no_value = substituted("#EXTM3U\n#EXT-X-DEFINE:NAME=\"a\"\n", "file:///p");
        assert!(matches!(
            no_value,
            Err(PlaylistError::MissingAttribute { line: 2, .. })
        ));
    }

    #[test]
    fn expansion_is_bounded() {
        let value = "v".repeat(4096);
        let references = "{$a}".repeat(1024);
        let text = format!("#EXTM3U\n#EXT-X-DEFINE:NAME=\"a\",VALUE=\"{value}\"\n{references}\n");
        assert!(matches!(
            substituted(&text, "file:///p"),
            Err(PlaylistError::Overflow { line: 3, .. })
        ));
    }
}
