/* Bound the grid of a worksheet's XML in one streaming pass, in C.
 *
 * python-calamine allocates one dense grid between the first and last
 * cell of a sheet, placing each row and cell by its r attribute, or after
 * the previous one when the attribute is missing. SheetScanner reads the
 * sheet XML in chunks of any size and keeps, across chunks:
 *
 * - the largest row number and column of any r attribute (of any element,
 *   any namespace prefix, either quote, whitespace around "=");
 * - the row elements without an r attribute, each of which may add a row;
 * - the largest count of cell elements without an r attribute in one row,
 *   each of which may add a column.
 *
 * So rows <= max_row + unnumbered rows and columns <= max_column + the
 * most unnumbered cells of a row bound calamine's grid. Comments, CDATA
 * sections and processing instructions are skipped as XML defines them.
 * A document type declaration or a byte sequence the scanner cannot place
 * sets `unsure`, and the caller then measures the sheet another way.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

/* Numbers saturate here, far above any limit a caller sets. */
#define CAP 1000000000000000ULL
#define NAME_KEEP 8

enum state {
    TEXT,
    TAG_OPEN,
    TAG_NAME,
    IN_TAG,
    ATTR_NAME,
    AFTER_ATTR_NAME,
    BEFORE_VALUE,
    VALUE,
    END_TAG,
    BANG,
    COMMENT,
    CDATA,
    PI
};

enum kind { OTHER, ROW, CELL };

typedef struct {
    PyObject_HEAD
    int state;
    int kind;
    int has_r;
    /* The local part (after any prefix) of the tag or attribute name. */
    char name[NAME_KEEP];
    int name_length;
    int attr_is_r;
    char quote;
    /* While reading an r value: 0 letters, 1 digits, 2 done. */
    int ref_phase;
    uint64_t ref_column;
    uint64_t ref_row;
    int ref_digits;
    /* Characters of "--", "[CDATA[" or a terminator matched so far. */
    int matched;
    uint64_t max_row;
    uint64_t max_column;
    uint64_t unnumbered_rows;
    uint64_t unnumbered_cells;
    uint64_t max_unnumbered_cells;
    int unsure;
} Scanner;

/* Character classes: bit 1 XML whitespace, bit 2 ends a tag or attribute
 * name (whitespace, '/', '>', '='). */
#define SPACE 1
#define NAME_END 2
static unsigned char classes[256];

static void fill_classes(void) {
    const char *spaces = " \t\n\r";
    for (const char *c = spaces; *c; c++) {
        classes[(unsigned char)*c] = SPACE | NAME_END;
    }
    classes['/'] = classes['>'] = classes['='] = NAME_END;
}

static int is_space(unsigned char c) { return classes[c] & SPACE; }

static void name_reset(Scanner *s) { s->name_length = 0; }

static void name_add(Scanner *s, unsigned char c) {
    if (c == ':') {
        s->name_length = 0;
    } else if (s->name_length < NAME_KEEP) {
        s->name[s->name_length++] = (char)c;
    } else {
        /* Longer than any name checked here: never "row", "c" or "r". */
        s->name_length = NAME_KEEP + 1;
    }
}

static int name_is(Scanner *s, const char *word) {
    size_t length = strlen(word);
    return s->name_length == (int)length && memcmp(s->name, word, length) == 0;
}

static void start_tag_named(Scanner *s) {
    if (name_is(s, "row")) {
        s->kind = ROW;
    } else if (name_is(s, "c")) {
        s->kind = CELL;
    } else {
        s->kind = OTHER;
    }
    s->has_r = 0;
}

static void finish_tag(Scanner *s) {
    if (s->kind == ROW) {
        if (!s->has_r && s->unnumbered_rows < CAP) {
            s->unnumbered_rows++;
        }
        s->unnumbered_cells = 0;
    } else if (s->kind == CELL && !s->has_r) {
        if (s->unnumbered_cells < CAP) {
            s->unnumbered_cells++;
        }
        if (s->unnumbered_cells > s->max_unnumbered_cells) {
            s->max_unnumbered_cells = s->unnumbered_cells;
        }
    }
    s->kind = OTHER;
    s->state = TEXT;
}

static void finish_ref(Scanner *s) {
    if (s->ref_digits > 0) {
        s->has_r = 1;
        if (s->ref_row > s->max_row) {
            s->max_row = s->ref_row;
        }
        if (s->ref_column > s->max_column) {
            s->max_column = s->ref_column;
        }
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
        finish_tag(s);
    } else {
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
            s->state = END_TAG;
        } else {
            name_reset(s);
            name_add(s, c);
            s->state = TAG_NAME;
        }
        break;
    case TAG_NAME:
        if (is_space(c) || c == '>' || c == '/') {
            start_tag_named(s);
            close_or_continue_tag(s, c);
        } else {
            name_add(s, c);
        }
        break;
    case IN_TAG:
        if (c == '>') {
            finish_tag(s);
        } else if (c == '"' || c == '\'') {
            /* A value without a name: not XML, so no bound is sure. */
            s->unsure = 1;
            s->quote = (char)c;
            s->attr_is_r = 0;
            s->ref_phase = 2;
            s->state = VALUE;
        } else if (!is_space(c) && c != '/') {
            name_reset(s);
            name_add(s, c);
            s->state = ATTR_NAME;
        }
        break;
    case ATTR_NAME:
        if (c == '=') {
            s->attr_is_r = name_is(s, "r");
            s->state = BEFORE_VALUE;
        } else if (is_space(c)) {
            s->attr_is_r = name_is(s, "r");
            s->state = AFTER_ATTR_NAME;
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
            s->state = IN_TAG;
        } else if (s->ref_phase != 2) {
            ref_add(s, c);
        }
        break;
    case END_TAG:
        if (c == '>') {
            s->state = TEXT;
        }
        break;
    case BANG: {
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
        break;
    }
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

/* The local part of the name in [start, stop): after the last ':'. */
static const unsigned char *local_name(const unsigned char *start,
                                       const unsigned char *stop) {
    const unsigned char *local = start;
    for (const unsigned char *p = start; p < stop; p++) {
        if (*p == ':') {
            local = p + 1;
        }
    }
    return local;
}

static int name_equals(const unsigned char *start, const unsigned char *stop,
                       const char *word, size_t length) {
    start = local_name(start, stop);
    return (size_t)(stop - start) == length && memcmp(start, word, length) == 0;
}

static int ends_name(unsigned char c) { return classes[c] & NAME_END; }

/* Parse a whole start tag from data (just after its '<'), which is no
 * '!' or '?' form. Returns the byte after its '>', or NULL when the tag
 * does not end before end or is not well formed; the byte-wise path then
 * reads it. */
static const unsigned char *parse_tag(Scanner *s, const unsigned char *data,
                                      const unsigned char *end) {
    const unsigned char *name = data;
    while (data < end && !ends_name(*data)) {
        data++;
    }
    int kind = OTHER;
    if (name_equals(name, data, "c", 1)) {
        kind = CELL;
    } else if (name_equals(name, data, "row", 3)) {
        kind = ROW;
    }
    int has_r = 0;
    uint64_t row = 0;
    uint64_t column = 0;
    while (data < end) {
        unsigned char c = *data;
        if (c == '>') {
            break;
        }
        if (is_space(c) || c == '/') {
            data++;
            continue;
        }
        if (kind == OTHER) {
            /* Attributes of other tags do not matter: skip their values. */
            if (c == '"' || c == '\'') {
                const unsigned char *close =
                    memchr(data + 1, c, (size_t)(end - data - 1));
                if (close == NULL) {
                    return NULL;
                }
                data = close;
            }
            data++;
            continue;
        }
        const unsigned char *attribute = data;
        while (data < end && !ends_name(*data)) {
            data++;
        }
        int is_r = name_equals(attribute, data, "r", 1);
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
        const unsigned char *close = memchr(data, quote, (size_t)(end - data));
        if (close == NULL) {
            return NULL;
        }
        if (is_r) {
            uint64_t letters = 0;
            uint64_t digits = 0;
            int count = 0;
            while (data < close && (unsigned char)((*data | 0x20) - 'a') < 26) {
                letters = letters >= CAP / 26 ? CAP
                                              : letters * 26 + ((*data | 0x20) - 'a' + 1);
                data++;
            }
            while (data < close && (unsigned char)(*data - '0') < 10) {
                digits = digits >= CAP / 10 ? CAP : digits * 10 + (*data - '0');
                count++;
                data++;
            }
            if (count > 0) {
                has_r = 1;
                row = digits > row ? digits : row;
                column = letters > column ? letters : column;
            }
        }
        data = close + 1;
    }
    if (data == end) {
        return NULL;
    }
    s->kind = kind;
    s->has_r = has_r;
    if (row > s->max_row) {
        s->max_row = row;
    }
    if (column > s->max_column) {
        s->max_column = column;
    }
    finish_tag(s);
    return data + 1;
}

/* Skip to the next byte that ends a tag or opens a quoted value. */
static const unsigned char *skip_in_tag(const unsigned char *data,
                                        const unsigned char *end) {
    while (data < end && *data != '>' && *data != '"' && *data != '\'') {
        data++;
    }
    return data;
}

static void feed(Scanner *s, const unsigned char *data, Py_ssize_t size) {
    const unsigned char *end = data + size;
    while (data < end) {
        const unsigned char *found = NULL;
        switch (s->state) {
        case TEXT:
            /* Text between tags: skip it at memchr speed. */
            found = memchr(data, '<', (size_t)(end - data));
            if (found == NULL) {
                return;
            }
            data = found + 1;
            s->state = TAG_OPEN;
            if (data < end && *data != '!' && *data != '?') {
                if (*data == '/') {
                    found = memchr(data, '>', (size_t)(end - data));
                    if (found != NULL) {
                        data = found + 1;
                        s->state = TEXT;
                    }
                    continue;
                }
                /* A start tag that ends in this chunk is parsed in one go. */
                found = parse_tag(s, data, end);
                if (found != NULL) {
                    data = found;
                }
            }
            continue;
        case END_TAG:
            found = memchr(data, '>', (size_t)(end - data));
            if (found == NULL) {
                return;
            }
            data = found + 1;
            s->state = TEXT;
            continue;
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
            if (s->kind != OTHER) {
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

static PyMethodDef Scanner_methods[] = {
    {"feed", (PyCFunction)Scanner_feed, METH_O,
     "Scan the next chunk of the sheet XML."},
    {"bounds", (PyCFunction)Scanner_bounds, METH_NOARGS,
     "Return (rows, columns, unsure) for the XML scanned so far."},
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
