// The PNG reports of libstaticnet (compiled mode, STATICNET_COMPILED_REPORTS):
// report/plot.hpp, image_grid.hpp and confusion.hpp only declare their
// functions there; they are defined once, here.
#define STATICNET_DEFINE_REPORTS 1
#include <staticnet/report/all.hpp>
