/* SPDX-License-Identifier: GPL-2.0-or-later */
/* QEMU firmware descriptors with json-c (what libvirt parses them with). The schema is QEMU's
 * docs/interop/firmware.json; only the members gpurun decides on are required to be well-formed,
 * unknown members and unknown feature names are ignored, as libvirt does, so that a descriptor
 * from a newer QEMU still loads. Everything read from a descriptor is hostile input: types are
 * checked before use and strings holding a NUL are refused. */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "core/firmware.h"
#include "util/error.h"
#include "util/strv.h"

static const char *const firmware_device_table[_FIRMWARE_DEVICE_MAX] = {
	[FIRMWARE_DEVICE_FLASH] = "flash",
	[FIRMWARE_DEVICE_MEMORY] = "memory",
	[FIRMWARE_DEVICE_KERNEL] = "kernel",
};
static const char *const firmware_mode_table[_FIRMWARE_MODE_MAX] = {
	[FIRMWARE_MODE_SPLIT] = "split",
	[FIRMWARE_MODE_COMBINED] = "combined",
	[FIRMWARE_MODE_STATELESS] = "stateless",
};
static const char *const firmware_format_table[_FIRMWARE_FORMAT_MAX] = {
	[FIRMWARE_FORMAT_RAW] = "raw",
	[FIRMWARE_FORMAT_QCOW2] = "qcow2",
};
static const char *const firmware_feature_table[_FIRMWARE_FEATURE_MAX] = {
	[FIRMWARE_FEATURE_SECURE_BOOT] = "secure-boot",
	[FIRMWARE_FEATURE_ENROLLED_KEYS] = "enrolled-keys",
	[FIRMWARE_FEATURE_REQUIRES_SMM] = "requires-smm",
	[FIRMWARE_FEATURE_ACPI_S3] = "acpi-s3",
	[FIRMWARE_FEATURE_ACPI_S4] = "acpi-s4",
	[FIRMWARE_FEATURE_AMD_SEV] = "amd-sev",
	[FIRMWARE_FEATURE_AMD_SEV_ES] = "amd-sev-es",
	[FIRMWARE_FEATURE_AMD_SEV_SNP] = "amd-sev-snp",
	[FIRMWARE_FEATURE_INTEL_TDX] = "intel-tdx",
	[FIRMWARE_FEATURE_VERBOSE_DYNAMIC] = "verbose-dynamic",
	[FIRMWARE_FEATURE_VERBOSE_STATIC] = "verbose-static",
};
DEFINE_STRING_TABLE_LOOKUP(firmware_device, enum firmware_device, _FIRMWARE_DEVICE_MAX)
DEFINE_STRING_TABLE_LOOKUP(firmware_mode, enum firmware_mode, _FIRMWARE_MODE_MAX)
DEFINE_STRING_TABLE_LOOKUP(firmware_format, enum firmware_format, _FIRMWARE_FORMAT_MAX)
DEFINE_STRING_TABLE_LOOKUP(firmware_feature, enum firmware_feature, _FIRMWARE_FEATURE_MAX)

struct firmware_descriptor *firmware_descriptor_free(struct firmware_descriptor *d)
{
	if (!d)
		return NULL;
	free(d->name);
	free(d->description);
	free(d->executable);
	free(d->nvram_template);
	for (size_t i = 0; i < d->n_targets; i++) {
		free(d->targets[i].architecture);
		strv_free(d->targets[i].machines);
	}
	free(d->targets);
	free(d);
	return NULL;
}

static void json_putp(json_object **o)
{
	if (*o)
		json_object_put(*o);
}

/* The string value of @o, or NULL when it is not a string or holds a NUL. */
static const char *json_str(json_object *o)
{
	const char *s;

	if (!o || !json_object_is_type(o, json_type_string))
		return NULL;
	s = json_object_get_string(o);
	if (!s || strlen(s) != (size_t)json_object_get_string_len(o))
		return NULL;
	return s;
}

/* A required string member @key of object @o, copied. */
static int member_str(const char *name, json_object *o, const char *what, const char *key,
		      char **ret, struct error *err)
{
	json_object *v = NULL;
	const char *s;

	if (!json_object_object_get_ex(o, key, &v))
		return error_set_line(err, EINVAL, name, 0, "%s: \"%s\" is missing", what, key);
	s = json_str(v);
	if (!s)
		return error_set_line(err, EINVAL, name, 0, "%s: \"%s\" is not a string", what,
				      key);
	*ret = strdup(s);
	if (!*ret)
		return error_set(err, ENOMEM, "%s", strerror(ENOMEM));
	return 0;
}

/* {"filename": "...", "format": "raw"|"qcow2"} */
static int parse_file(const char *name, json_object *o, const char *what, char **ret_file,
		      enum firmware_format *ret_format, struct error *err)
{
	_cleanup_free_ char *file = NULL, *format = NULL;
	int r, f;

	if (!o || !json_object_is_type(o, json_type_object))
		return error_set_line(err, EINVAL, name, 0, "\"%s\" is missing or not an object",
				      what);
	r = member_str(name, o, what, "filename", &file, err);
	if (r < 0)
		return r;
	r = member_str(name, o, what, "format", &format, err);
	if (r < 0)
		return r;
	f = firmware_format_from_string(format);
	if (f < 0)
		return error_set_line(err, EINVAL, name, 0, "%s: unknown format \"%s\"", what,
				      format);
	*ret_file = TAKE_PTR(file);
	*ret_format = f;
	return 0;
}

static int parse_mapping(const char *name, json_object *m, struct firmware_descriptor *d,
			 struct error *err)
{
	json_object *v = NULL;
	const char *s;
	int r, k;

	if (!m || !json_object_is_type(m, json_type_object))
		return error_set_line(err, EINVAL, name, 0,
				      "\"mapping\" is missing or not an object");
	if (!json_object_object_get_ex(m, "device", &v) || !(s = json_str(v)))
		return error_set_line(err, EINVAL, name, 0,
				      "mapping: \"device\" is missing or not a string");
	k = firmware_device_from_string(s);
	if (k < 0)
		return error_set_line(err, EINVAL, name, 0, "mapping: unknown device \"%s\"", s);
	d->device = k;
	if (d->device != FIRMWARE_DEVICE_FLASH) {
		/* memory and kernel: one "filename", no format member in the schema */
		d->executable_format = FIRMWARE_FORMAT_RAW;
		return member_str(name, m, "mapping", "filename", &d->executable, err);
	}
	d->mode = FIRMWARE_MODE_SPLIT;
	if (json_object_object_get_ex(m, "mode", &v)) {
		if (!(s = json_str(v)))
			return error_set_line(err, EINVAL, name, 0,
					      "mapping: \"mode\" is not a string");
		k = firmware_mode_from_string(s);
		if (k < 0)
			return error_set_line(err, EINVAL, name, 0, "mapping: unknown mode \"%s\"",
					      s);
		d->mode = k;
	}
	r = parse_file(name, json_object_object_get_ex(m, "executable", &v) ? v : NULL,
		       "mapping.executable", &d->executable, &d->executable_format, err);
	if (r < 0)
		return r;
	if (d->mode != FIRMWARE_MODE_SPLIT)
		return 0;
	return parse_file(name, json_object_object_get_ex(m, "nvram-template", &v) ? v : NULL,
			  "mapping.nvram-template", &d->nvram_template, &d->nvram_template_format,
			  err);
}

static int parse_targets(const char *name, json_object *t, struct firmware_descriptor *d,
			 struct error *err)
{
	size_t n;

	if (!t || !json_object_is_type(t, json_type_array))
		return error_set_line(err, EINVAL, name, 0,
				      "\"targets\" is missing or not an array");
	n = json_object_array_length(t);
	d->targets = calloc(n ? n : 1, sizeof(*d->targets));
	if (!d->targets)
		return error_set(err, ENOMEM, "%s", strerror(ENOMEM));
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(t, i), *ms = NULL;
		struct firmware_target *tg = &d->targets[i];
		int r;

		if (!e || !json_object_is_type(e, json_type_object))
			return error_set_line(err, EINVAL, name, 0, "targets[%zu] is not an object",
					      i);
		d->n_targets = i + 1;
		r = member_str(name, e, "targets[]", "architecture", &tg->architecture, err);
		if (r < 0)
			return r;
		if (!json_object_object_get_ex(e, "machines", &ms) ||
		    !json_object_is_type(ms, json_type_array))
			return error_set_line(
			    err, EINVAL, name, 0,
			    "targets[%zu]: \"machines\" is missing or not an array", i);
		tg->machines = calloc(1, sizeof(char *));
		if (!tg->machines)
			return error_set(err, ENOMEM, "%s", strerror(ENOMEM));
		for (size_t j = 0; j < json_object_array_length(ms); j++) {
			const char *s = json_str(json_object_array_get_idx(ms, j));

			if (!s)
				return error_set_line(err, EINVAL, name, 0,
						      "targets[%zu].machines[%zu] is not a string",
						      i, j);
			if (strv_extend(&tg->machines, s) < 0)
				return error_set(err, ENOMEM, "%s", strerror(ENOMEM));
		}
	}
	return 0;
}

/* A string array member; @fn is called for each element. Absent is fine when !required. */
static int parse_str_array(const char *name, json_object *o, const char *key, bool required,
			   void (*fn)(struct firmware_descriptor *d, const char *s),
			   struct firmware_descriptor *d, struct error *err)
{
	json_object *a = NULL;

	if (!json_object_object_get_ex(o, key, &a))
		return required ? error_set_line(err, EINVAL, name, 0, "\"%s\" is missing", key)
				: 0;
	if (!json_object_is_type(a, json_type_array))
		return error_set_line(err, EINVAL, name, 0, "\"%s\" is not an array", key);
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		const char *s = json_str(json_object_array_get_idx(a, i));

		if (!s)
			return error_set_line(err, EINVAL, name, 0, "%s[%zu] is not a string", key,
					      i);
		fn(d, s);
	}
	return 0;
}

static void add_interface(struct firmware_descriptor *d, const char *s)
{
	if (streq(s, "uefi"))
		d->uefi = true;
}

static void add_feature(struct firmware_descriptor *d, const char *s)
{
	int f = firmware_feature_from_string(s);

	if (f >= 0)
		d->features |= 1u << f;
}

int firmware_parse(const char *name, const void *buf, size_t len, struct firmware_descriptor **ret,
		   struct error *err)
{
	_cleanup_(firmware_descriptor_freep) struct firmware_descriptor *d = NULL;
	_cleanup_(json_putp) json_object *root = NULL;
	json_object *v = NULL;
	struct json_tokener *tok;
	enum json_tokener_error jerr;
	size_t end;
	int r;

	if (len > INT32_MAX)
		return error_set_line(err, EFBIG, name, 0, "descriptor too large");
	tok = json_tokener_new();
	if (!tok)
		return error_set(err, ENOMEM, "%s", strerror(ENOMEM));
	root = json_tokener_parse_ex(tok, len ? buf : "", (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!root || jerr != json_tokener_success) {
		if (end >= len && len > 0)
			end = len - 1;
		return error_set_offset(err, EINVAL, name, end, "not valid JSON: %s",
					jerr == json_tokener_continue
					    ? "unexpected end of input"
					    : json_tokener_error_desc(jerr));
	}
	for (; end < len; end++)
		if (!strchr(" \t\r\n", ((const char *)buf)[end]) || ((const char *)buf)[end] == 0)
			return error_set_offset(err, EINVAL, name, end,
						"not valid JSON: data after the object");
	if (!json_object_is_type(root, json_type_object))
		return error_set_line(err, EINVAL, name, 0, "not a JSON object");

	d = calloc(1, sizeof(*d));
	if (!d || !(d->name = strdup(name)))
		return error_set(err, ENOMEM, "%s", strerror(ENOMEM));
	if (json_object_object_get_ex(root, "description", &v) && json_str(v) &&
	    !(d->description = strdup(json_str(v))))
		return error_set(err, ENOMEM, "%s", strerror(ENOMEM));
	r = parse_str_array(name, root, "interface-types", true, add_interface, d, err);
	if (r < 0)
		return r;
	r = parse_mapping(name, json_object_object_get_ex(root, "mapping", &v) ? v : NULL, d, err);
	if (r < 0)
		return r;
	r = parse_targets(name, json_object_object_get_ex(root, "targets", &v) ? v : NULL, d, err);
	if (r < 0)
		return r;
	r = parse_str_array(name, root, "features", true, add_feature, d, err);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(d);
	return 0;
}

bool firmware_has_feature(const struct firmware_descriptor *d, enum firmware_feature f)
{
	return f < _FIRMWARE_FEATURE_MAX && (d->features & (1u << f));
}

bool firmware_supports(const struct firmware_descriptor *d, const char *arch, const char *machine)
{
	/* "q35" is QEMU's alias of its newest versioned q35 type, which descriptors name by
	 * glob ("pc-q35-*"); a version no glob could pin down stands for it. */
	const char *versioned = streq(machine, "q35")  ? "pc-q35-99.99"
				: streq(machine, "pc") ? "pc-i440fx-99.99"
						       : NULL;

	for (size_t i = 0; i < d->n_targets; i++) {
		if (!streq(d->targets[i].architecture, arch))
			continue;
		for (char **g = d->targets[i].machines; g && *g; g++)
			if (fnmatch(*g, machine, 0) == 0 ||
			    (versioned && fnmatch(*g, versioned, 0) == 0))
				return true;
	}
	return false;
}

bool firmware_fits(const struct firmware_descriptor *d, const struct firmware_want *want)
{
	bool sb = firmware_has_feature(d, FIRMWARE_FEATURE_SECURE_BOOT);

	if (!d->uefi || d->device != FIRMWARE_DEVICE_FLASH || d->mode != FIRMWARE_MODE_SPLIT ||
	    !d->executable || !d->nvram_template)
		return false;
	if (!firmware_supports(d, want->arch, want->machine))
		return false;
	return sb == want->secure_boot;
}

int firmware_select(struct firmware_descriptor *const *descs, size_t n,
		    const struct firmware_want *want,
		    bool (*usable)(const struct firmware_descriptor *d, void *userdata),
		    void *userdata)
{
	/* secure boot: a build with keys enrolled first (it boots signed OSes at once), then one
	 * in setup mode (Arch ships only that), as libvirt prefers enrolled keys too */
	for (int pass = want->secure_boot ? 0 : 1; pass < 2; pass++)
		for (size_t i = 0; i < n; i++) {
			if (!firmware_fits(descs[i], want) ||
			    (pass == 0 &&
			     !firmware_has_feature(descs[i], FIRMWARE_FEATURE_ENROLLED_KEYS)))
				continue;
			if (!usable || usable(descs[i], userdata))
				return (int)i;
		}
	return -ENOENT;
}

static int file_cmp(const void *a, const void *b)
{
	const struct firmware_file *x = *(const struct firmware_file *const *)a,
				   *y = *(const struct firmware_file *const *)b;
	int c = strcmp(x->name, y->name);

	if (c != 0)
		return c;
	return (x->dir_priority > y->dir_priority) - (x->dir_priority < y->dir_priority);
}

void firmware_set_done(struct firmware_set *s)
{
	for (size_t i = 0; i < s->n_descs; i++)
		firmware_descriptor_free(s->descs[i]);
	free(s->descs);
	strv_free(s->skipped);
	*s = (struct firmware_set){};
}

int firmware_set_load(const struct firmware_file *files, size_t n, struct firmware_set *ret)
{
	_cleanup_free_ const struct firmware_file **sorted = NULL;
	struct firmware_set s = {};
	int r = -ENOMEM;

	sorted = calloc(n ? n : 1, sizeof(*sorted));
	s.descs = calloc(n ? n : 1, sizeof(*s.descs));
	s.skipped = calloc(1, sizeof(char *));
	if (!sorted || !s.descs || !s.skipped)
		goto fail;
	for (size_t i = 0; i < n; i++)
		sorted[i] = &files[i];
	qsort(sorted, n, sizeof(*sorted), file_cmp);
	for (size_t i = 0; i < n; i++) {
		_cleanup_(error_clear) struct error e = {};
		struct firmware_descriptor *d = NULL;

		/* the same name again: a lower-priority directory's copy, overridden */
		if (i > 0 && streq(sorted[i]->name, sorted[i - 1]->name))
			continue;
		if (sorted[i]->len == 0)
			continue; /* an empty file hides the name */
		r = firmware_parse(sorted[i]->name, sorted[i]->buf, sorted[i]->len, &d, &e);
		if (r == -ENOMEM)
			goto fail;
		if (r < 0) {
			_cleanup_free_ char *msg = error_format(&e);

			if (!msg || strv_extend(&s.skipped, msg) < 0) {
				r = -ENOMEM;
				goto fail;
			}
			continue;
		}
		s.descs[s.n_descs++] = d;
	}
	*ret = s;
	return 0;
fail:
	firmware_set_done(&s);
	return r;
}
