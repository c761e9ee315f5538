//! Placeholder: the ELF loader is being written.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ElfError {
    #[error("placeholder")]
    Placeholder,
}
