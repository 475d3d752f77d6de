//! The live demo: its state as the console reads it (`handle`) and the scripted story it
//! plays over real SCIM on loopback (`story`).

pub mod handle;
mod story;

pub use handle::Demo;
