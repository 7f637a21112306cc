#ifndef REEL_CFREETYPE_SHIM_H
#define REEL_CFREETYPE_SHIM_H
// FreeType, which libavfilter's drawtext draws with: ReelRender measures overlay text with the
// same library and font files, so that what it fits is what drawtext draws. Only ReelRender
// imports this module.
#include <ft2build.h>
#include FT_FREETYPE_H
#include FT_GLYPH_H

// FT_HAS_KERNING is a macro Swift cannot import.
static inline int reel_ft_has_kerning(FT_Face face) { return FT_HAS_KERNING(face) ? 1 : 0; }
#endif
