/// Why a fast path (`StreamCopyCut`, `MixedRender`) that looked possible could not be used
/// after all; the renderer then takes the next path and reports this as its reason.
struct FastPathMismatch: Error, CustomStringConvertible {
    var description: String
}
