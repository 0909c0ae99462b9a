//! Requests the engine asks for, made with `fetch`: the body is read as a stream so
//! progress (bytes so far, time to first byte) reaches the engine while it arrives, and
//! an `AbortController` per request lets the engine cancel it. Segment bodies are
//! gathered as JS `Uint8Array` chunks and joined in JS, so media bytes never enter the
//! wasm heap; playlist text does, because the engine parses it.

use js_sys::Uint8Array;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, ReadableStreamDefaultReader, RequestInit, Response};

use super::shell::Note;
use super::sink::describe;
use crate::engine::{FetchFailure, FetchRequest, Input, RequestId};

/// Starts `request`, whose news goes to `deliver` (the shell's inbox), which answers
/// whether the request is still wanted; the returned controller aborts it.
pub fn start(
    deliver: impl Fn(Note) -> bool + 'static,
    request: FetchRequest,
) -> Result<AbortController, JsValue> {
    let controller = AbortController::new()?;
    let signal = controller.signal();
    wasm_bindgen_futures::spawn_local(async move {
        let id = request.id;
        let outcome = run(&deliver, &request, signal).await;
        if let Err(failure) = outcome {
            deliver(Note::Fetched(
                id,
                Input::RequestFailed {
                    request: id,
                    failure,
                },
            ));
        }
    });
    Ok(controller)
}

fn failure(status: Option<u16>, message: String) -> FetchFailure {
    FetchFailure { status, message }
}

async fn run(
    deliver: &dyn Fn(Note) -> bool,
    request: &FetchRequest,
    signal: web_sys::AbortSignal,
) -> Result<(), FetchFailure> {
    let id = request.id;
    let init = RequestInit::new();
    init.set_signal(Some(&signal));
    if let Some(range) = request.range {
        let headers = web_sys::Headers::new().map_err(|e| failure(None, describe(&e)))?;
        headers
            .set("Range", &range.http_header())
            .map_err(|e| failure(None, describe(&e)))?;
        init.set_headers(&headers);
    }
    let window = web_sys::window().ok_or_else(|| failure(None, "no window".into()))?;
    let response: Response = JsFuture::from(window.fetch_with_str_and_init(&request.url, &init))
        .await
        .map_err(|e| failure(None, describe(&e)))?
        .unchecked_into();
    if !response.ok() {
        return Err(failure(
            Some(response.status()),
            format!("HTTP {} {}", response.status(), response.status_text()),
        ));
    }
    let total = response
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.parse::<u64>().ok());
    if !deliver(Note::Fetched(
        id,
        Input::ResponseStarted {
            request: id,
            total_bytes: total,
        },
    )) {
        return Ok(());
    }
    if request.kind.is_playlist() {
        let text = JsFuture::from(response.text().map_err(|e| failure(None, describe(&e)))?)
            .await
            .map_err(|e| failure(None, describe(&e)))?
            .as_string()
            .unwrap_or_default();
        let final_url = response.url();
        let url = (!final_url.is_empty() && final_url != request.url).then_some(final_url);
        deliver(Note::Fetched(
            id,
            Input::PlaylistLoaded {
                request: id,
                text,
                url,
            },
        ));
        return Ok(());
    }
    let bytes = read_body(deliver, id, &response).await?;
    let Some(bytes) = bytes else {
        return Ok(());
    };
    let length = u64::from(bytes.length());
    deliver(Note::Body(id, bytes));
    deliver(Note::Fetched(
        id,
        Input::SegmentLoaded {
            request: id,
            bytes: length,
        },
    ));
    Ok(())
}

/// Reads the body chunk by chunk, reporting progress; `None` once the engine no longer
/// wants the request.
async fn read_body(
    deliver: &dyn Fn(Note) -> bool,
    id: RequestId,
    response: &Response,
) -> Result<Option<Uint8Array>, FetchFailure> {
    let Some(body) = response.body() else {
        return Ok(Some(Uint8Array::new_with_length(0)));
    };
    let reader: ReadableStreamDefaultReader = body
        .get_reader()
        .dyn_into()
        .map_err(|e| failure(None, describe(&e)))?;
    let mut chunks: Vec<Uint8Array> = Vec::new();
    let mut loaded: u64 = 0;
    loop {
        let result = JsFuture::from(reader.read())
            .await
            .map_err(|e| failure(None, describe(&e)))?;
        let done = js_sys::Reflect::get(&result, &"done".into())
            .map(|v| v.is_truthy())
            .unwrap_or(true);
        if done {
            break;
        }
        let chunk: Uint8Array = js_sys::Reflect::get(&result, &"value".into())
            .map_err(|e| failure(None, describe(&e)))?
            .unchecked_into();
        loaded += u64::from(chunk.length());
        chunks.push(chunk);
        if !deliver(Note::Fetched(
            id,
            Input::Progress {
                request: id,
                loaded,
            },
        )) {
            // The request may already be aborted, which rejects cancel(): await it so the
            // rejection is handled here, not reported by the page as unhandled.
            let cancelled = JsFuture::from(reader.cancel());
            wasm_bindgen_futures::spawn_local(async move {
                let _ = cancelled.await;
            });
            return Ok(None);
        }
    }
    if chunks.len() == 1 {
        return Ok(chunks.pop());
    }
    let joined = Uint8Array::new_with_length(loaded as u32);
    let mut offset = 0;
    for chunk in &chunks {
        joined.set(chunk, offset);
        offset += chunk.length();
    }
    Ok(Some(joined))
}
