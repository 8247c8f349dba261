#ifndef CLERK_WEBHOOK_CFASTCGI_SHIM_H
#define CLERK_WEBHOOK_CFASTCGI_SHIM_H

// fcgiapp.h only: fcgi_stdio.h redefines stdio as macros and cannot be imported into Swift.
#include <fcgiapp.h>

#endif
