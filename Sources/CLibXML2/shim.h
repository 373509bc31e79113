#ifndef KOERIER_CLIBXML2_SHIM_H
#define KOERIER_CLIBXML2_SHIM_H
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

/* libxml2 2.9 keeps its nesting limit in a process-wide variable; Swift 6 refuses to
   write C globals directly, so this one-line setter does it. */
static inline void koerier_xml_set_max_depth(unsigned int depth) { xmlParserMaxDepth = depth; }

/* Route every external entity/DTD/schema load through libxml2's no-network loader. */
static inline void koerier_xml_forbid_network(void) { xmlSetExternalEntityLoader(xmlNoNetExternalEntityLoader); }
/* xmlFree is a C global function pointer, which Swift 6 will not read directly. */
static inline void koerier_xml_free(void *pointer) { xmlFree(pointer); }
#endif
