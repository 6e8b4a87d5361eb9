/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Small helpers shared by every file: cleanup attributes, ownership transfer, string tests. */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _noreturn_ __attribute__((noreturn))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))

/* Hand ownership out of a _cleanup_ variable. */
#define TAKE_PTR(p)                                                                                \
	({                                                                                         \
		__typeof__(p) _p_ = (p);                                                           \
		(p) = NULL;                                                                        \
		_p_;                                                                               \
	})
#define TAKE_FD(fd)                                                                                \
	({                                                                                         \
		int _fd_ = (fd);                                                                   \
		(fd) = -1;                                                                         \
		_fd_;                                                                              \
	})

static inline void freep(void *p)
{
	free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}
#define _cleanup_close_ _cleanup_(closep)

static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Define `name##p(type **)` that calls `func(*p)` when non-NULL. */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)                                                    \
	static inline void func##p(type *p)                                                        \
	{                                                                                          \
		if (*p)                                                                            \
			func(*p);                                                                  \
	}

/* Enum <-> string tables. In a header: DECLARE_STRING_TABLE_LOOKUP(plan_role, enum plan_role);
 * in the .c file, after `static const char *const plan_role_table[_PLAN_ROLE_MAX] = {...};`:
 * DEFINE_STRING_TABLE_LOOKUP(plan_role, enum plan_role, _PLAN_ROLE_MAX). That defines
 * plan_role_to_string(v) (NULL when out of range or unnamed) and plan_role_from_string(s) (the
 * value, or -EINVAL when @s names none). DEFINE_STRING_TABLE_LOOKUP_FALLBACK(..., "unknown")
 * is the same with @fallback instead of NULL, for values read from a file that may name
 * nothing in the table. */
#define DECLARE_STRING_TABLE_LOOKUP(name, type)                                                    \
	const char *name##_to_string(type v);                                                      \
	int name##_from_string(const char *s)
#define DEFINE_STRING_TABLE_LOOKUP(name, type, max)                                                \
	DEFINE_STRING_TABLE_LOOKUP_FALLBACK(name, type, max, NULL)
#define DEFINE_STRING_TABLE_LOOKUP_FALLBACK(name, type, max, fallback)                             \
	const char *name##_to_string(type v)                                                       \
	{                                                                                          \
		/* negative values of a signed type wrap past @max */                              \
		if ((unsigned long long)v >= (unsigned long long)(max) || !name##_table[v])        \
			return fallback;                                                           \
		return name##_table[v];                                                            \
	}                                                                                          \
	int name##_from_string(const char *s)                                                      \
	{                                                                                          \
		for (size_t i_ = 0; s && i_ < (size_t)(max); i_++)                                 \
			if (name##_table[i_] && strcmp(name##_table[i_], s) == 0)                  \
				return (int)i_;                                                    \
		return -EINVAL;                                                                    \
	}

static inline void *mfree(void *p)
{
	free(p);
	return NULL;
}

static inline bool streq(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

static inline bool streq_ptr(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

static inline bool startswith(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static inline const char *strempty(const char *s)
{
	return s ? s : "";
}

static inline const char *strna(const char *s)
{
	return s ? s : "n/a";
}

static inline int negative_errno(void)
{
	return errno > 0 ? -errno : -EIO;
}

/* Little-endian readers for untrusted buffers; the caller checks bounds. */
static inline unsigned le16(const unsigned char *p)
{
	return (unsigned)p[0] | (unsigned)p[1] << 8;
}
static inline unsigned long le32(const unsigned char *p)
{
	return (unsigned long)p[0] | (unsigned long)p[1] << 8 | (unsigned long)p[2] << 16 |
	       (unsigned long)p[3] << 24;
}
