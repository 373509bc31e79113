#ifndef KOERIER_CXMLSEC_SHIM_H
#define KOERIER_CXMLSEC_SHIM_H
/* Debian's libxml2 is built with ICU; its headers would pull in the system ICU, which
   clashes with the copy inside Swift's Foundation. Only the layout of
   xmlCharEncodingHandler depends on it, and Koerier never touches that struct's fields
   (only pointers to it), so hiding ICU from the importer is safe. */
#include <libxml/xmlversion.h>
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlschemas.h>
#include <libxml/xmlwriter.h>
#include <libxml/xmlIO.h>

/* libxmlsec1 with its OpenSSL back end. Its headers include libxml2's, so both live in
   this one module: two modules would each own the libxml2 types and Swift would see
   them as different types.

   The defines are those `pkg-config --cflags xmlsec1-openssl` prints (SwiftPM drops -D
   flags from pkg-config). Without them the structs do not match the library; a test
   compares this list with pkg-config's. */
#define __XMLSEC_FUNCTION__ __func__
#define XMLSEC_NO_SIZE_T 1
#define XMLSEC_OPENSSL3_ENGINES 1
#define XMLSEC_NO_GOST 1
#define XMLSEC_NO_GOST2012 1
#define XMLSEC_NO_CRYPTO_DYNAMIC_LOADING 1
#define XMLSEC_CRYPTO_OPENSSL 1
#include <xmlsec/xmlsec.h>
#include <xmlsec/xmltree.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/templates.h>
#include <xmlsec/crypto.h>
#include <xmlsec/errors.h>
#include <xmlsec/openssl/app.h>
#include <xmlsec/openssl/crypto.h>
#include <xmlsec/openssl/x509.h>
#include <xmlsec/openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/evp.h>
#include <openssl/err.h>
#include <openssl/cms.h>
#include <openssl/pem.h>

/* libxml2 2.9 keeps its nesting limit in a process-wide variable; Swift 6 refuses to
   write C globals directly, so this one-line setter does it. */
static inline void koerier_xml_set_max_depth(unsigned int depth) { xmlParserMaxDepth = depth; }

/* Route every external entity/DTD/schema load through libxml2's no-network loader. */
static inline void koerier_xml_forbid_network(void) { xmlSetExternalEntityLoader(xmlNoNetExternalEntityLoader); }
/* xmlFree is a C global function pointer, which Swift 6 will not read directly. */
static inline void koerier_xml_free(void *pointer) { xmlFree(pointer); }
#endif
