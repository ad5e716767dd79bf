/* Bound the grid of a worksheet's XML in one streaming pass, in C.
 *
 * python-calamine allocates one dense grid between the first and last
 * cell that has a value, placing each row and cell by its r attribute, or
 * after the previous one when the attribute is missing. SheetScanner reads
 * the sheet XML in chunks of any size and keeps, across chunks:
 *
 * - the largest row number and column of any r attribute of a row or cell
 *   element (any element prefix, either quote, whitespace around "=");
 * - the row elements without an r attribute, each of which may add a row;
 * - the largest count of cell elements without an r attribute in one row,
 *   each of which may add a column;
 * - the value extent: the first and last row and column of the cells that
 *   have a v, is or f child, each placed as calamine places it.
 *
 * So rows <= max_row + unnumbered rows and columns <= max_column + the
 * most unnumbered cells of a row bound calamine's grid, and the value
 * extent measures it. Comments, CDATA sections and processing instructions
 * are skipped as XML defines them. A document type declaration or a byte
 * sequence the scanner cannot place sets `unsure`, and the caller then
 * measures the sheet another way. A row, cell or sheetData element inside
 * a cell sets `extent_unsure` instead: calamine reads it as content of the
 * cell, or fails on it.
 *
 * The placing follows calamine 0.37 (in python-calamine 0.9.1) and
 * quick-xml, its XML parser. An element's local name is the part after its
 * first colon. Only an attribute named exactly "r" places a row or cell,
 * so <c x:r="B2"> is a cell without a reference. An empty element such as
 * <c/> or <row/> counts as a start tag followed by an end tag. Counting
 * starts at <sheetData>, and cells after </sheetData>, which calamine does
 * not read, still count: they can only widen the extent.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Numbers saturate here, far above any limit a caller sets. */
#define CAP 1000000000000000ULL
/* Longer than the longest local name checked here, "sheetData". */
#define NAME_KEEP 12

enum state {
    TEXT,
    TAG_OPEN,
    TAG_NAME,
    IN_TAG,
    ATTR_NAME,
    AFTER_ATTR_NAME,
    BEFORE_VALUE,
    VALUE,
    END_NAME,
    END_TAG,
    BANG,
    COMMENT,
    CDATA,
    PI
};

/* Elements that place cells or give them a value. CELL_VALUE is a v, is
 * or f element, which gives the cell that contains it a value. */
enum kind { OTHER, ROW, CELL, CELL_VALUE, SHEET_DATA };

/* The r attributes of the tag being read: the first places a row element
 * and the last a cell, as calamine reads them. */
typedef struct {
    int count;
    uint64_t first_row;
    uint64_t last_column;
    uint64_t min_row;
    uint64_t max_row;
    uint64_t min_column;
    uint64_t max_column;
} Refs;

/* A rectangle of cell positions, from one cell or a whole sheet. */
typedef struct {
    uint64_t top;
    uint64_t bottom;
    uint64_t left;
    uint64_t right;
} Area;

typedef struct {
    PyObject_HEAD
    int state;
    int kind;
    /* The last byte of the tag so far is '/', so '>' closes an empty element. */
    int slash;
    /* The local part (after the prefix) of the tag or attribute name. */
    char name[NAME_KEEP];
    int name_length;
    int name_colons;
    int attr_is_r;
    char quote;
    /* While reading an r value: 0 letters, 1 digits, 2 done. */
    int ref_phase;
    uint64_t ref_column;
    uint64_t ref_row;
    int ref_digits;
    Refs refs;
    /* Characters of "--", "[CDATA[" or a terminator matched so far. */
    int matched;
    uint64_t max_row;
    uint64_t max_column;
    uint64_t unnumbered_rows;
    uint64_t unnumbered_cells;
    uint64_t max_unnumbered_cells;
    int unsure;
    /* calamine's position for the next cell without a reference, 1-based. */
    uint64_t row_index;
    uint64_t column_index;
    int sheet_data_seen;
    int in_cell;
    Area cell;
    int has_values;
    Area values;
    int extent_unsure;
} Scanner;

/* Character classes: XML whitespace, the bytes that end a tag name
 * (whitespace, '/', '>'), and those that end an attribute name ('=' too). */
#define SPACE 1
#define TAG_NAME_END 2
#define NAME_END 4
static unsigned char classes[256];

static void fill_classes(void) {
    const char *spaces = " \t\n\r";
    for (const char *c = spaces; *c; c++) {
        classes[(unsigned char)*c] = SPACE | TAG_NAME_END | NAME_END;
    }
    classes['/'] = classes['>'] = TAG_NAME_END | NAME_END;
    classes['='] = NAME_END;
}

static int is_space(unsigned char c) { return classes[c] & SPACE; }

static int ends_tag_name(unsigned char c) { return classes[c] & TAG_NAME_END; }

static int ends_name(unsigned char c) { return classes[c] & NAME_END; }

static uint64_t add_one(uint64_t number) { return number < CAP ? number + 1 : CAP; }

/* Find byte c in [data, end), or return NULL. Text between tags is mostly
 * a few bytes long, where a 16-byte compare beats a call to memchr. */
static const unsigned char *find_byte(const unsigned char *data,
                                      const unsigned char *end, unsigned char c) {
#if defined(__SSE2__)
    const __m128i target = _mm_set1_epi8((char)c);
    for (int blocks = 0; blocks < 4 && end - data >= 16; blocks++) {
        __m128i block = _mm_loadu_si128((const __m128i *)data);
        int mask = _mm_movemask_epi8(_mm_cmpeq_epi8(block, target));
        if (mask != 0) {
            return data + __builtin_ctz((unsigned)mask);
        }
        data += 16;
    }
#endif
    return memchr(data, c, (size_t)(end - data));
}

/* The kind of the element whose qualified name is [start, stop). */
static int classify(const unsigned char *start, const unsigned char *stop) {
    /* Names are a few bytes long, so a loop beats memchr here. */
    const unsigned char *colon = start;
    while (colon < stop && *colon != ':') {
        colon++;
    }
    if (colon < stop) {
        start = colon + 1;
        for (const unsigned char *p = start; p < stop; p++) {
            if (*p == ':') {
                return OTHER;
            }
        }
    }
    switch (stop - start) {
    case 1:
        if (*start == 'c') {
            return CELL;
        }
        return *start == 'v' || *start == 'f' ? CELL_VALUE : OTHER;
    case 2:
        return start[0] == 'i' && start[1] == 's' ? CELL_VALUE : OTHER;
    case 3:
        return memcmp(start, "row", 3) == 0 ? ROW : OTHER;
    case 9:
        return memcmp(start, "sheetData", 9) == 0 ? SHEET_DATA : OTHER;
    default:
        return OTHER;
    }
}

static void name_reset(Scanner *s) {
    s->name_length = 0;
    s->name_colons = 0;
}

static void name_add(Scanner *s, unsigned char c) {
    if (c == ':') {
        /* The local name starts after the first colon. A second colon
         * leaves one in the local name, which then matches no name here. */
        s->name_length = s->name_colons == 0 ? 0 : NAME_KEEP + 1;
        s->name_colons++;
    } else if (s->name_length < NAME_KEEP) {
        s->name[s->name_length++] = (char)c;
    } else {
        s->name_length = NAME_KEEP + 1;
    }
}

static int name_kind(Scanner *s) {
    if (s->name_length > NAME_KEEP) {
        return OTHER;
    }
    const unsigned char *name = (const unsigned char *)s->name;
    return classify(name, name + s->name_length);
}

static void refs_reset(Refs *refs) { refs->count = 0; }

static void refs_add(Refs *refs, uint64_t row, uint64_t column) {
    if (refs->count == 0) {
        refs->first_row = refs->min_row = refs->max_row = row;
        refs->min_column = refs->max_column = column;
    } else {
        refs->min_row = row < refs->min_row ? row : refs->min_row;
        refs->max_row = row > refs->max_row ? row : refs->max_row;
        refs->min_column = column < refs->min_column ? column : refs->min_column;
        refs->max_column = column > refs->max_column ? column : refs->max_column;
    }
    refs->last_column = column;
    refs->count++;
}

static void area_include(Area *area, const Area *other) {
    area->top = other->top < area->top ? other->top : area->top;
    area->bottom = other->bottom > area->bottom ? other->bottom : area->bottom;
    area->left = other->left < area->left ? other->left : area->left;
    area->right = other->right > area->right ? other->right : area->right;
}

static void end_element(Scanner *s, int kind) {
    if (kind == CELL) {
        s->in_cell = 0;
    } else if (kind == ROW) {
        if (s->in_cell) {
            s->extent_unsure = 1;
        }
        s->row_index = add_one(s->row_index);
        s->column_index = 1;
    } else if (kind == SHEET_DATA && s->in_cell) {
        s->extent_unsure = 1;
    }
}

static void start_row(Scanner *s) {
    Refs *refs = &s->refs;
    if (refs->count == 0 && s->unnumbered_rows < CAP) {
        s->unnumbered_rows++;
    }
    s->unnumbered_cells = 0;
    if (s->in_cell) {
        s->extent_unsure = 1;
    } else if (refs->count > 0) {
        /* calamine 0.37 reads the first r attribute of a row. */
        s->row_index = refs->first_row;
    }
}

/* Place a cell where calamine does: at its last r attribute, else after
 * the previous cell of the row. A cell with several r attributes covers
 * all of them, so the extent contains whichever one a version of calamine
 * reads. */
static void start_cell(Scanner *s, int empty) {
    Refs *refs = &s->refs;
    if (refs->count == 0) {
        if (s->unnumbered_cells < CAP) {
            s->unnumbered_cells++;
        }
        if (s->unnumbered_cells > s->max_unnumbered_cells) {
            s->max_unnumbered_cells = s->unnumbered_cells;
        }
    }
    if (s->in_cell) {
        s->extent_unsure = 1;
        return;
    }
    if (refs->count == 0) {
        s->cell.top = s->cell.bottom = s->row_index;
        s->cell.left = s->cell.right = s->column_index;
    } else {
        s->cell.top = refs->min_row;
        s->cell.bottom = refs->max_row;
        s->cell.left = refs->min_column;
        s->cell.right = refs->max_column;
        s->column_index = refs->last_column;
    }
    s->column_index = add_one(s->column_index);
    s->in_cell = !empty;
}

/* Apply a whole start tag. `empty` is set when it ends in "/>". */
static void finish_tag(Scanner *s, int empty) {
    int kind = s->kind;
    if (s->refs.count > 0) {
        if (s->refs.max_row > s->max_row) {
            s->max_row = s->refs.max_row;
        }
        if (s->refs.max_column > s->max_column) {
            s->max_column = s->refs.max_column;
        }
    }
    switch (kind) {
    case ROW:
        start_row(s);
        break;
    case CELL:
        start_cell(s, empty);
        break;
    case CELL_VALUE:
        if (s->in_cell) {
            if (!s->has_values) {
                s->values = s->cell;
                s->has_values = 1;
            } else {
                area_include(&s->values, &s->cell);
            }
        }
        break;
    case SHEET_DATA:
        if (s->in_cell) {
            s->extent_unsure = 1;
        }
        if (!s->sheet_data_seen) {
            /* calamine starts counting rows and columns here. */
            s->sheet_data_seen = 1;
            s->row_index = 1;
            s->column_index = 1;
        }
        break;
    default:
        break;
    }
    /* Only a row ends where it starts: an empty cell is placed but never
     * entered, and the other kinds change nothing at their end. */
    if (empty && kind == ROW) {
        end_element(s, ROW);
    }
    s->kind = OTHER;
    s->state = TEXT;
}

static void start_tag_named(Scanner *s) {
    s->kind = name_kind(s);
    refs_reset(&s->refs);
}

static void finish_ref(Scanner *s) {
    if (s->ref_digits > 0) {
        refs_add(&s->refs, s->ref_row, s->ref_column);
    }
    s->ref_phase = 2;
}

/* One character of an r value: letters, then digits, as calamine reads it. */
static void ref_add(Scanner *s, unsigned char c) {
    if (s->ref_phase == 0) {
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) {
            uint64_t letter = (uint64_t)((c | 0x20) - 'a' + 1);
            s->ref_column = s->ref_column >= CAP / 26 ? CAP
                                                      : s->ref_column * 26 + letter;
            return;
        }
        s->ref_phase = 1;
    }
    if (s->ref_phase == 1) {
        if (c >= '0' && c <= '9') {
            s->ref_row = s->ref_row >= CAP / 10 ? CAP : s->ref_row * 10 + (c - '0');
            s->ref_digits++;
            return;
        }
        finish_ref(s);
    }
}

/* After a name that ends at c: the tag closes at '>', else goes on. */
static void close_or_continue_tag(Scanner *s, unsigned char c) {
    if (c == '>') {
        finish_tag(s, 0);
    } else {
        s->slash = c == '/';
        s->state = IN_TAG;
    }
}

/* Leave a comment ("-->") or CDATA section ("]]>") at its terminator. */
static void end_section(Scanner *s, unsigned char c, unsigned char mark) {
    if (c == mark) {
        s->matched = s->matched < 2 ? s->matched + 1 : 2;
    } else if (c == '>' && s->matched == 2) {
        s->state = TEXT;
    } else {
        s->matched = 0;
    }
}

static void step_bang(Scanner *s, unsigned char c) {
    /* "<!--" opens a comment and "<![CDATA[" a CDATA section. */
    static const char cdata[] = "[CDATA[";
    if (s->matched == 0 && c == '-') {
        s->matched = -1;
    } else if (s->matched == -1) {
        if (c == '-') {
            s->state = COMMENT;
            s->matched = 0;
        } else {
            s->unsure = 1;
            s->state = TEXT;
        }
    } else if (s->matched >= 0 && c == (unsigned char)cdata[s->matched]) {
        s->matched++;
        if (s->matched == 7) {
            s->state = CDATA;
            s->matched = 0;
        }
    } else {
        /* A document type declaration, which sheets never carry. */
        s->unsure = 1;
        s->state = TEXT;
    }
}

static void step(Scanner *s, unsigned char c) {
    switch (s->state) {
    case TAG_OPEN:
        if (c == '!') {
            s->state = BANG;
            s->matched = 0;
        } else if (c == '?') {
            s->state = PI;
            s->matched = 0;
        } else if (c == '/') {
            name_reset(s);
            s->state = END_NAME;
        } else {
            name_reset(s);
            name_add(s, c);
            s->state = TAG_NAME;
        }
        break;
    case TAG_NAME:
        if (ends_tag_name(c)) {
            start_tag_named(s);
            close_or_continue_tag(s, c);
        } else {
            name_add(s, c);
        }
        break;
    case IN_TAG:
        if (c == '>') {
            finish_tag(s, s->slash);
        } else if (c == '"' || c == '\'') {
            /* A value without a name: not XML, so no bound is sure. */
            s->unsure = 1;
            s->quote = (char)c;
            s->attr_is_r = 0;
            s->ref_phase = 2;
            s->state = VALUE;
        } else if (c == '/') {
            s->slash = 1;
        } else if (!is_space(c)) {
            name_reset(s);
            name_add(s, c);
            s->state = ATTR_NAME;
        } else {
            s->slash = 0;
        }
        break;
    case ATTR_NAME:
        if (c == '=' || is_space(c)) {
            s->attr_is_r = (s->kind == ROW || s->kind == CELL) &&
                           s->name_colons == 0 && s->name_length == 1 &&
                           s->name[0] == 'r';
            s->state = c == '=' ? BEFORE_VALUE : AFTER_ATTR_NAME;
        } else if (c == '>' || c == '/') {
            s->unsure = 1;
            close_or_continue_tag(s, c);
        } else {
            name_add(s, c);
        }
        break;
    case AFTER_ATTR_NAME:
        if (c == '=') {
            s->state = BEFORE_VALUE;
        } else if (!is_space(c)) {
            s->unsure = 1;
            s->state = IN_TAG;
            step(s, c);
        }
        break;
    case BEFORE_VALUE:
        if (c == '"' || c == '\'') {
            s->quote = (char)c;
            s->ref_phase = s->attr_is_r ? 0 : 2;
            s->ref_column = 0;
            s->ref_row = 0;
            s->ref_digits = 0;
            s->state = VALUE;
        } else if (!is_space(c)) {
            s->unsure = 1;
            s->state = IN_TAG;
            step(s, c);
        }
        break;
    case VALUE:
        if (c == (unsigned char)s->quote) {
            if (s->ref_phase != 2) {
                finish_ref(s);
            }
            s->slash = 0;
            s->state = IN_TAG;
        } else if (s->ref_phase != 2) {
            ref_add(s, c);
        }
        break;
    case END_NAME:
        if (ends_tag_name(c)) {
            s->kind = name_kind(s);
            s->state = END_TAG;
            step(s, c);
        } else {
            name_add(s, c);
        }
        break;
    case END_TAG:
        if (c == '>') {
            end_element(s, s->kind);
            s->kind = OTHER;
            s->state = TEXT;
        }
        break;
    case BANG:
        step_bang(s, c);
        break;
    case COMMENT:
        end_section(s, c, '-');
        break;
    case CDATA:
        end_section(s, c, ']');
        break;
    case PI:
        if (c == '>' && s->matched == 1) {
            s->state = TEXT;
        } else {
            s->matched = c == '?';
        }
        break;
    default: /* TEXT */
        if (c == '<') {
            s->state = TAG_OPEN;
        }
        break;
    }
}

/* Parse the value of an r attribute, [data, close), into refs. */
static void parse_ref(Refs *refs, const unsigned char *data,
                      const unsigned char *close) {
    uint64_t letters = 0;
    uint64_t digits = 0;
    int count = 0;
    while (data < close && (unsigned char)((*data | 0x20) - 'a') < 26) {
        letters = letters >= CAP / 26 ? CAP : letters * 26 + ((*data | 0x20) - 'a' + 1);
        data++;
    }
    while (data < close && (unsigned char)(*data - '0') < 10) {
        digits = digits >= CAP / 10 ? CAP : digits * 10 + (*data - '0');
        count++;
        data++;
    }
    if (count > 0) {
        refs_add(refs, digits, letters);
    }
}

/* Find the quote that closes a value opened by `quote` just before data. */
static const unsigned char *find_quote(const unsigned char *data,
                                       const unsigned char *end, unsigned char quote) {
    /* Attribute values of cells are a few bytes long. */
    for (int i = 0; i < 16 && data < end; i++, data++) {
        if (*data == quote) {
            return data;
        }
    }
    return data < end ? memchr(data, quote, (size_t)(end - data)) : NULL;
}

/* Parse the attributes of a row or cell tag from data to its '>', into
 * s->refs. Returns the '>', or NULL when the tag does not end before end
 * or is not written as name="value" pairs. */
static const unsigned char *parse_attributes(Scanner *s, const unsigned char *data,
                                             const unsigned char *end) {
    while (data < end) {
        unsigned char c = *data;
        if (c == '>') {
            return data;
        }
        if (is_space(c) || c == '/') {
            data++;
            continue;
        }
        const unsigned char *attribute = data;
        while (data < end && !ends_name(*data)) {
            data++;
        }
        int is_r = data - attribute == 1 && *attribute == 'r';
        while (data < end && is_space(*data)) {
            data++;
        }
        if (data == end || *data != '=') {
            return NULL;
        }
        data++;
        while (data < end && is_space(*data)) {
            data++;
        }
        if (data == end || (*data != '"' && *data != '\'')) {
            return NULL;
        }
        unsigned char quote = *data++;
        const unsigned char *close = find_quote(data, end, quote);
        if (close == NULL) {
            return NULL;
        }
        if (is_r) {
            parse_ref(&s->refs, data, close);
        }
        data = close + 1;
    }
    return NULL;
}

/* Skip the attributes of a tag whose attributes do not matter. Returns its
 * '>', or NULL when the tag does not end before end. */
static const unsigned char *skip_attributes(const unsigned char *data,
                                            const unsigned char *end) {
    while (data < end) {
        unsigned char c = *data;
        if (c == '>') {
            return data;
        }
        if (c == '"' || c == '\'') {
            const unsigned char *close = memchr(data + 1, c, (size_t)(end - data - 1));
            if (close == NULL) {
                return NULL;
            }
            data = close;
        }
        data++;
    }
    return NULL;
}

/* Skip to the next byte that ends a tag or opens a quoted value. */
static const unsigned char *skip_in_tag(const unsigned char *data,
                                        const unsigned char *end) {
    while (data < end && *data != '>' && *data != '"' && *data != '\'') {
        data++;
    }
    return data;
}

/* 4 letters and 12 digits of a reference, its quote, then 16 bytes. */
#define WRITTEN_CELL_BYTES 33

#if defined(__SSE2__)
/* A bit mask of the bytes of block equal to c, bit i for byte i. */
static unsigned mask_of(__m128i block, char c) {
    return (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(block, _mm_set1_epi8(c)));
}

/* Find the '>' that ends the rest of a cell tag at data, just after its
 * r value, when it is plain: within 16 bytes, with double quotes only, and
 * no other attribute that may be an r (a name starting with 'r' after
 * whitespace or a quote). Returns NULL otherwise. */
static const unsigned char *find_plain_tag_end(const unsigned char *data) {
    const __m128i block = _mm_loadu_si128((const __m128i *)data);
    unsigned closes = mask_of(block, '>');
    if (closes == 0) {
        return NULL;
    }
    unsigned before = (closes & (0u - closes)) - 1;
    unsigned quotes = mask_of(block, '"');
    /* Bytes up to 0x20, which include XML whitespace. */
    const __m128i space = _mm_set1_epi8(' ');
    unsigned spaces = (unsigned)_mm_movemask_epi8(
        _mm_cmpeq_epi8(_mm_max_epu8(block, space), space));
    /* Bit 0: the byte before data is the quote that closes the r value. */
    unsigned name_starts = ((spaces | quotes) << 1) | 1;
    /* With double quotes only, a '>' after an even count of them is
     * outside every value. */
    if ((mask_of(block, '\'') & before) != 0 ||
        (mask_of(block, 'r') & name_starts & before) != 0 ||
        __builtin_popcount(quotes & before) % 2 != 0) {
        return NULL;
    }
    return data + __builtin_ctz(closes);
}

/* Parse a cell tag written as <c r="B12" ...> from data, just after its
 * r=", into s->refs. Reads at most WRITTEN_CELL_BYTES from data. Returns
 * the tag's '>', or NULL for any other form, which parse_attributes then
 * reads. */
static const unsigned char *parse_written_cell(Scanner *s, const unsigned char *data) {
    const unsigned char *limit = data + 4;
    uint64_t column = 0;
    while (data < limit && (unsigned char)((*data | 0x20) - 'a') < 26) {
        column = column * 26 + (uint64_t)((*data | 0x20) - 'a' + 1);
        data++;
    }
    limit = data + 12;
    const unsigned char *digits = data;
    uint64_t row = 0;
    while (data < limit && (unsigned char)(*data - '0') < 10) {
        row = row * 10 + (uint64_t)(*data - '0');
        data++;
    }
    if (data == digits || *data != '"') {
        return NULL;
    }
    const unsigned char *close = find_plain_tag_end(data + 1);
    if (close != NULL) {
        refs_add(&s->refs, row, column);
    }
    return close;
}
#else
/* Without SSE2, every cell tag takes the general path. */
static const unsigned char *parse_written_cell(Scanner *s, const unsigned char *data) {
    (void)s;
    (void)data;
    return NULL;
}
#endif

/* Parse a whole start tag from data (just after its '<'), which is no
 * '!' or '?' form. Returns the byte after its '>', or NULL when the tag
 * does not end before end or is not well formed; the byte-wise path then
 * reads it. */
static const unsigned char *parse_tag(Scanner *s, const unsigned char *data,
                                      const unsigned char *end) {
    const unsigned char *start = data;
    const unsigned char *close = NULL;
    refs_reset(&s->refs);
    /* The form that writers emit for almost every cell. */
    if (end - data >= 5 + WRITTEN_CELL_BYTES && memcmp(data, "c r=\"", 5) == 0) {
        s->kind = CELL;
        close = parse_written_cell(s, data + 5);
    }
    if (close == NULL) {
        while (data < end && !ends_tag_name(*data)) {
            data++;
        }
        s->kind = classify(start, data);
        if (s->kind == ROW || s->kind == CELL) {
            close = parse_attributes(s, data, end);
        } else {
            close = skip_attributes(data, end);
        }
    }
    if (close == NULL) {
        s->kind = OTHER;
        return NULL;
    }
    if (s->kind != OTHER) {
        finish_tag(s, close[-1] == '/');
    }
    return close + 1;
}

/* Parse a whole end tag from data (just after its "</"). Returns the byte
 * after its '>', or NULL when the tag does not end before end. */
static const unsigned char *parse_end_tag(Scanner *s, const unsigned char *data,
                                          const unsigned char *end) {
    const unsigned char *name = data;
    while (data < end && !ends_tag_name(*data)) {
        data++;
    }
    const unsigned char *name_end = data;
    if (data < end && *data != '>') {
        data = find_byte(data, end, '>');
    }
    if (data == NULL || data == end) {
        return NULL;
    }
    end_element(s, classify(name, name_end));
    return data + 1;
}

static void feed(Scanner *s, const unsigned char *data, Py_ssize_t size) {
    const unsigned char *end = data + size;
    while (data < end) {
        const unsigned char *found = NULL;
        switch (s->state) {
        case TEXT:
            /* Text between tags: skip it at memchr speed. */
            found = find_byte(data, end, '<');
            if (found == NULL) {
                return;
            }
            data = found + 1;
            s->state = TAG_OPEN;
            if (data == end || *data == '!' || *data == '?') {
                continue;
            }
            /* A tag that ends in this chunk is parsed in one go. */
            if (*data == '/') {
                found = parse_end_tag(s, data + 1, end);
            } else {
                found = parse_tag(s, data, end);
            }
            if (found != NULL) {
                data = found;
                s->state = TEXT;
            }
            continue;
        case END_TAG:
            found = find_byte(data, end, '>');
            if (found == NULL) {
                return;
            }
            data = found;
            break;
        case VALUE:
            if (s->ref_phase != 2) {
                break;
            }
            found = memchr(data, (unsigned char)s->quote, (size_t)(end - data));
            if (found == NULL) {
                return;
            }
            data = found;
            break;
        case IN_TAG:
            /* Only row and cell tags have attributes that matter. */
            if (s->kind == ROW || s->kind == CELL) {
                break;
            }
            data = skip_in_tag(data, end);
            if (data == end) {
                return;
            }
            if (*data != '>') {
                s->quote = (char)*data++;
                s->ref_phase = 2;
                s->state = VALUE;
                continue;
            }
            break;
        default:
            break;
        }
        step(s, *data++);
    }
}

static PyObject *Scanner_feed(Scanner *self, PyObject *arg) {
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    feed(self, (const unsigned char *)view.buf, view.len);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&view);
    Py_RETURN_NONE;
}

static PyObject *Scanner_bounds(Scanner *self, PyObject *unused) {
    uint64_t rows = self->max_row + self->unnumbered_rows;
    uint64_t columns = self->max_column + self->max_unnumbered_cells;
    return Py_BuildValue(
        "(KKO)",
        (unsigned long long)(rows > CAP ? CAP : rows),
        (unsigned long long)(columns > CAP ? CAP : columns),
        self->unsure ? Py_True : Py_False);
}

static PyObject *Scanner_value_extent(Scanner *self, PyObject *unused) {
    PyObject *unsure = self->unsure || self->extent_unsure ? Py_True : Py_False;
    if (!self->has_values) {
        return Py_BuildValue("(OO)", Py_None, unsure);
    }
    const Area *values = &self->values;
    return Py_BuildValue(
        "((KK)O)",
        (unsigned long long)(values->bottom - values->top + 1),
        (unsigned long long)(values->right - values->left + 1),
        unsure);
}

static PyMethodDef Scanner_methods[] = {
    {"feed", (PyCFunction)Scanner_feed, METH_O,
     "Scan the next chunk of the sheet XML."},
    {"bounds", (PyCFunction)Scanner_bounds, METH_NOARGS,
     "Return (rows, columns, unsure) for the XML scanned so far."},
    {"value_extent", (PyCFunction)Scanner_value_extent, METH_NOARGS,
     "Return ((rows, columns) or None, unsure) of the cells with a value."},
    {NULL, NULL, 0, NULL},
};

static PyObject *Scanner_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    if (PyTuple_GET_SIZE(args) != 0 || (kwds != NULL && PyDict_GET_SIZE(kwds) != 0)) {
        PyErr_SetString(PyExc_TypeError, "SheetScanner() takes no arguments");
        return NULL;
    }
    Scanner *self = (Scanner *)type->tp_alloc(type, 0);
    if (self != NULL) {
        self->state = TEXT;
        self->ref_phase = 2;
        self->row_index = 1;
        self->column_index = 1;
    }
    return (PyObject *)self;
}

static PyTypeObject ScannerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "sentinel.files._sheetscan.SheetScanner",
    .tp_doc = "Bounds of a worksheet's grid, from its XML fed in chunks.",
    .tp_basicsize = sizeof(Scanner),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = Scanner_new,
    .tp_methods = Scanner_methods,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "sentinel.files._sheetscan",
    .m_doc = "Bound a worksheet's grid from its XML in one pass, in C.",
    .m_size = -1,
};

PyMODINIT_FUNC PyInit__sheetscan(void) {
    fill_classes();
    if (PyType_Ready(&ScannerType) < 0) {
        return NULL;
    }
    PyObject *created = PyModule_Create(&module);
    if (created == NULL) {
        return NULL;
    }
    Py_INCREF(&ScannerType);
    if (PyModule_AddObject(created, "SheetScanner", (PyObject *)&ScannerType) < 0) {
        Py_DECREF(&ScannerType);
        Py_DECREF(created);
        return NULL;
    }
    return created;
}
