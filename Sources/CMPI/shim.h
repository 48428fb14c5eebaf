// Open MPI's C API (Debian: libopenmpi-dev). Open MPI defines its handles as macros that take the
// address of global objects (MPI_COMM_WORLD is &ompi_mpi_comm_world); Swift cannot import such
// macros, so each handle the project uses is returned by a static inline function here.
#ifndef SRGAN_CMPI_SHIM_H
#define SRGAN_CMPI_SHIM_H
#include <mpi.h>

static inline MPI_Comm srmpi_comm_world(void) { return MPI_COMM_WORLD; }
static inline MPI_Datatype srmpi_float(void) { return MPI_FLOAT; }
static inline MPI_Datatype srmpi_double(void) { return MPI_DOUBLE; }
static inline MPI_Datatype srmpi_int64(void) { return MPI_INT64_T; }
static inline MPI_Datatype srmpi_byte(void) { return MPI_BYTE; }
static inline MPI_Op srmpi_sum(void) { return MPI_SUM; }
static inline MPI_Op srmpi_max(void) { return MPI_MAX; }
static inline MPI_Op srmpi_min(void) { return MPI_MIN; }
static inline void *srmpi_in_place(void) { return MPI_IN_PLACE; }
static inline int srmpi_success(void) { return MPI_SUCCESS; }
static inline int srmpi_thread_funneled(void) { return MPI_THREAD_FUNNELED; }
static inline MPI_Errhandler srmpi_errors_return(void) { return MPI_ERRORS_RETURN; }
static inline int srmpi_max_error_string(void) { return MPI_MAX_ERROR_STRING; }
static inline MPI_Request srmpi_request_null(void) { return MPI_REQUEST_NULL; }
static inline MPI_Status *srmpi_status_ignore(void) { return MPI_STATUS_IGNORE; }

#endif
