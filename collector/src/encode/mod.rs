//! `collector encode`: a source into a CMAF (fMP4) HLS ladder with ffmpeg, then
//! quality control.

use std::path::PathBuf;

/// Command-line arguments of `collector encode`.
#[derive(Debug, clap::Args)]
pub struct EncodeArgs {
    /// Source video file.
    #[arg(
        long,
        conflicts_with = "test_pattern",
        required_unless_present = "test_pattern"
    )]
    pub input: Option<PathBuf>,
    /// Generate a moving test pattern with a tone of this many seconds instead of reading a file.
    #[arg(long, value_name = "SECONDS")]
    pub test_pattern: Option<f64>,
    /// Output directory (written to a temporary sibling and renamed into place at the end).
    #[arg(long)]
    pub out: PathBuf,
}

/// Runs an encode from the command line.
pub fn run(_args: EncodeArgs) -> anyhow::Result<()> {
    anyhow::bail!("collector encode: not built yet")
}
