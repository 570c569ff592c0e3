// Stand-in found before the system cairo by the headers.nocairo test: a
// header that includes cairo without STATICNET_WITH_CAIRO fails there.
#error "staticnet: cairo included although STATICNET_WITH_CAIRO is not set"
