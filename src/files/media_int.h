/* media_int.h - shared by image.c and ocr.c (not part of the contract). */
#ifndef OB_FILES_MEDIA_INT_H
#define OB_FILES_MEDIA_INT_H

#include "base/err.h"

/* An image's pixels as 8-bit grey, one byte per pixel, rows packed
 * (*w bytes each); *pix is freed by the caller with g_free. Content libvips
 * cannot read is OB_E_UNPROCESSABLE. */
int ob_image_gray(int fd, unsigned char **pix, int *w, int *h, ob_err *err);

#endif
