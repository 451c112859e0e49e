/*
 * scripts/test --sanitize: preloaded after the ASan runtime into the server (never into the
 * extension), to get around a deadlock of glibc 2.36 with an ASan runtime that is preloaded
 * rather than linked into the program.
 *
 * The constructors of libgpg-error and GnuTLS (loaded by the postgres binary through libldap)
 * call bindtextdomain before ASan has initialized. bindtextdomain takes glibc's _nl_state_lock
 * and allocates under it; the allocation is ASan's first, and the lock is left held, so the
 * next bindtextdomain (PostgreSQL's own, first thing in main) waits for ever. The same happens
 * to __libc_setlocale_lock in p11-kit's destructor (freelocale), at every process exit.
 *
 * So: bindtextdomain does nothing for those two libraries' message catalogues (their messages
 * stay untranslated, which the tests never read), and freelocale does nothing (a test server
 * frees a few locale objects less). Everything else goes to glibc.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <locale.h>
#include <string.h>

char *bindtextdomain(const char *domain, const char *dir) {
    static char *(*next)(const char *, const char *);
    if (domain != NULL && (strcmp(domain, "libgpg-error") == 0 || strcmp(domain, "gnutls30") == 0))
        return (char *)dir;
    if (next == NULL) next = (char *(*)(const char *, const char *))dlsym(RTLD_NEXT, "bindtextdomain");
    return next(domain, dir);
}

void freelocale(locale_t locale) { (void)locale; }
