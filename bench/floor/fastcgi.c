/* The floor of the persistent shape: a trivial libfcgi responder that reads its body and answers 200. */
#include <fcgiapp.h>
#include <stdlib.h>

int main(void) {
    FCGX_Request request;
    char buffer[65536];
    FCGX_Init();
    FCGX_InitRequest(&request, 0, 0);
    while (FCGX_Accept_r(&request) >= 0) {
        while (FCGX_GetStr(buffer, sizeof buffer, request.in) > 0) {
        }
        FCGX_PutS("Status: 200 OK\r\nContent-Type: application/json\r\n\r\n{\"ok\":true}", request.out);
        FCGX_Finish_r(&request);
    }
    return 0;
}
