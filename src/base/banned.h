/* banned.h - functions that are easy to misuse; use the safe alternatives
 * (ob_sb_*, snprintf, strtoll with checks, gmtime_r). Included last by every
 * .c file through base.h, so a use is a compile error. */
#ifndef OB_BANNED_H
#define OB_BANNED_H

#define OB_BANNED(fn) sorry_##fn##_is_banned

#undef strcpy
#define strcpy(x, y) OB_BANNED(strcpy)
#undef strcat
#define strcat(x, y) OB_BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) OB_BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) OB_BANNED(strncat)
#undef sprintf
#define sprintf(...) OB_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) OB_BANNED(vsprintf)
#undef strtok
#define strtok(x, y) OB_BANNED(strtok)
#undef gmtime
#define gmtime(t) OB_BANNED(gmtime)
#undef localtime
#define localtime(t) OB_BANNED(localtime)
#undef atoi
#define atoi(x) OB_BANNED(atoi)
#undef gets
#define gets(x) OB_BANNED(gets)

#endif
